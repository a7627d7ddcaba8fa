/**
 * JSON schemas for Grafana's provisioning files, from the field names of its provisioning loader
 * (pkg/services/provisioning). Grafana does not run here: these catch a typo (`noDataStat`) that
 * the loader would silently drop.
 */

/** Prometheus-style durations, as the loader parses them (model.ParseDuration). */
export const DURATION = "^(0|(\\d+y)?(\\d+w)?(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?)$";
/** Grafana UIDs: at most 40 characters of letters, digits, - and _. */
const UID = { type: "string", pattern: "^[a-zA-Z0-9_-]{1,40}$" } as const;
const ORG_ID = { type: "integer", minimum: 1 } as const;
const STRING_MAP = { type: "object", additionalProperties: { type: "string" } } as const;
const DURATION_STRING = { type: "string", pattern: DURATION, minLength: 1 } as const;

const STRING = { type: "string" } as const;
const NON_EMPTY = { type: "string", minLength: 1 } as const;
const BOOLEAN = { type: "boolean" } as const;
const STRINGS = { type: "array", items: STRING } as const;
const API_VERSION = { const: 1 } as const;

/** An object with only these properties: the loader silently drops unknown keys. */
function strictObject<P extends object>(properties: P, required: ReadonlyArray<keyof P & string> = []) {
  return { type: "object", additionalProperties: false, ...(required.length > 0 && { required }), properties } as const;
}

function list<I>(items: I, minItems?: number) {
  return { type: "array", ...(minItems !== undefined && { minItems }), items } as const;
}

/** `deleteRules`, `deleteContactPoints`: entries named by uid. */
const DELETE_BY_UID = list(strictObject({ uid: UID, orgId: ORG_ID }, ["uid"]));

export const datasourcesSchema = {
  $id: "grafana-provisioning-datasources",
  ...strictObject(
    {
      apiVersion: API_VERSION,
      datasources: list(
        strictObject(
          {
            orgId: ORG_ID,
            orgName: STRING,
            version: { type: "integer" },
            name: NON_EMPTY,
            type: NON_EMPTY,
            access: { enum: ["proxy", "direct"] },
            url: NON_EMPTY,
            user: STRING,
            database: STRING,
            basicAuth: BOOLEAN,
            basicAuthUser: STRING,
            withCredentials: BOOLEAN,
            isDefault: BOOLEAN,
            correlations: { type: "array" },
            jsonData: { type: "object" },
            secureJsonData: STRING_MAP,
            editable: BOOLEAN,
            uid: UID,
          },
          ["name", "type", "url"],
        ),
        1,
      ),
      deleteDatasources: list(strictObject({ name: STRING, orgId: ORG_ID, orgName: STRING }, ["name"])),
    },
    ["apiVersion", "datasources"],
  ),
} as const;

export const dashboardProvidersSchema = {
  $id: "grafana-provisioning-dashboard-providers",
  ...strictObject(
    {
      apiVersion: API_VERSION,
      providers: list(
        strictObject(
          {
            name: NON_EMPTY,
            type: { const: "file" },
            orgId: ORG_ID,
            folder: STRING,
            folderUid: UID,
            editable: BOOLEAN,
            disableDeletion: BOOLEAN,
            updateIntervalSeconds: { type: "integer", minimum: 1 },
            allowUiUpdates: BOOLEAN,
            options: strictObject({ path: NON_EMPTY, foldersFromFilesStructure: BOOLEAN }, ["path"]),
          },
          ["name", "options"],
        ),
        1,
      ),
    },
    ["apiVersion", "providers"],
  ),
} as const;

const alertQuery = strictObject(
  {
    refId: NON_EMPTY,
    queryType: STRING,
    relativeTimeRange: strictObject({ from: { type: "integer", minimum: 0 }, to: { type: "integer", minimum: 0 } }, [
      "from",
      "to",
    ]),
    datasourceUid: NON_EMPTY,
    model: { type: "object", required: ["refId"], properties: { refId: STRING } },
  },
  ["refId", "datasourceUid", "model"],
);

const alertRule = strictObject(
  {
    uid: UID,
    title: { type: "string", minLength: 1, maxLength: 190 },
    condition: NON_EMPTY,
    data: list(alertQuery, 1),
    dashboardUid: UID,
    panelId: { type: "integer", minimum: 1 },
    noDataState: { enum: ["Alerting", "NoData", "OK", "KeepLast"] },
    execErrState: { enum: ["Alerting", "Error", "OK", "KeepLast"] },
    for: DURATION_STRING,
    keepFiringFor: DURATION_STRING,
    missing_series_evals_to_resolve: { type: "integer", minimum: 0 },
    annotations: STRING_MAP,
    labels: STRING_MAP,
    isPaused: BOOLEAN,
    notification_settings: strictObject(
      {
        receiver: NON_EMPTY,
        group_by: STRINGS,
        group_wait: DURATION_STRING,
        group_interval: DURATION_STRING,
        repeat_interval: DURATION_STRING,
        mute_time_intervals: STRINGS,
        active_time_intervals: STRINGS,
      },
      ["receiver"],
    ),
  },
  ["uid", "title", "condition", "data"],
);

/** The notifier settings Grafana's webhook integration reads (grafana/alerting receivers/webhook). */
const webhookSettings = strictObject(
  {
    url: NON_EMPTY,
    httpMethod: { enum: ["POST", "PUT"] },
    maxAlerts: { type: ["integer", "string"] },
    authorization_scheme: STRING,
    authorization_credentials: STRING,
    username: STRING,
    password: STRING,
    title: STRING,
    message: STRING,
  },
  ["url"],
);

const routeProperties = {
  receiver: NON_EMPTY,
  group_by: STRINGS,
  group_wait: DURATION_STRING,
  group_interval: DURATION_STRING,
  repeat_interval: DURATION_STRING,
  matchers: STRINGS,
  object_matchers: list({ type: "array", minItems: 3, maxItems: 3, items: STRING }),
  mute_time_intervals: STRINGS,
  active_time_intervals: STRINGS,
  continue: BOOLEAN,
  routes: list({ $ref: "#/$defs/route" }),
};
/** A notification policy route (Alertmanager's Route, as Grafana's provisioning reads it). */
const route = strictObject(routeProperties);
/** The root policy: it also takes orgId, and must name a receiver. */
const rootRoute = strictObject({ ...routeProperties, orgId: ORG_ID }, ["receiver"]);

/** One schema for every file under provisioning/alerting (Grafana reads them all as AlertingFileV1). */
export const alertingSchema = {
  $id: "grafana-provisioning-alerting",
  $defs: { route },
  ...strictObject(
    {
      apiVersion: API_VERSION,
      groups: list(
        strictObject(
          {
            orgId: ORG_ID,
            name: NON_EMPTY,
            folder: NON_EMPTY,
            interval: DURATION_STRING,
            rules: list(alertRule, 1),
          },
          ["name", "folder", "interval", "rules"],
        ),
      ),
      deleteRules: DELETE_BY_UID,
      contactPoints: list(
        strictObject(
          {
            orgId: ORG_ID,
            name: NON_EMPTY,
            receivers: list(
              {
                ...strictObject(
                  {
                    uid: UID,
                    type: NON_EMPTY,
                    settings: { type: "object", minProperties: 1 },
                    disableResolveMessage: BOOLEAN,
                  },
                  ["uid", "type", "settings"],
                ),
                // The settings each integration reads; Surge only provisions webhooks.
                if: { properties: { type: { const: "webhook" } } },
                // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable.
                then: { properties: { settings: webhookSettings } },
              },
              1,
            ),
          },
          ["name", "receivers"],
        ),
      ),
      deleteContactPoints: DELETE_BY_UID,
      policies: list(rootRoute),
      resetPolicies: list(ORG_ID),
    },
    ["apiVersion"],
  ),
} as const;

/** What Grafana needs of a dashboard JSON file to provision it (and what these dashboards promise). */
export const dashboardSchema = {
  $id: "grafana-dashboard",
  type: "object",
  required: ["title", "uid", "schemaVersion", "panels", "time"],
  properties: {
    title: NON_EMPTY,
    uid: UID,
    // Provisioned dashboards must not carry a database id: Grafana assigns it.
    id: { type: "null" },
    schemaVersion: { type: "integer", minimum: 36 },
    editable: BOOLEAN,
    tags: STRINGS,
    time: {
      type: "object",
      required: ["from", "to"],
      properties: { from: STRING, to: STRING },
    },
    refresh: STRING,
    panels: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["type", "id", "gridPos", "title"],
        properties: {
          type: NON_EMPTY,
          id: { type: "integer", minimum: 1 },
          title: NON_EMPTY,
          gridPos: {
            type: "object",
            required: ["h", "w", "x", "y"],
            properties: {
              h: { type: "integer", minimum: 1 },
              w: { type: "integer", minimum: 1, maximum: 24 },
              x: { type: "integer", minimum: 0, maximum: 23 },
              y: { type: "integer", minimum: 0 },
            },
          },
          targets: {
            type: "array",
            items: {
              type: "object",
              required: ["refId", "expr", "datasource"],
              properties: {
                refId: NON_EMPTY,
                expr: NON_EMPTY,
                datasource: { type: "object", required: ["uid"], properties: { uid: STRING } },
              },
            },
          },
        },
      },
    },
    annotations: {
      type: "object",
      required: ["list"],
      properties: {
        list: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "datasource", "enable"],
            properties: {
              name: STRING,
              datasource: { type: "object" },
              enable: BOOLEAN,
              iconColor: STRING,
            },
          },
        },
      },
    },
    templating: {
      type: "object",
      properties: {
        list: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "type"],
            properties: { name: STRING, type: STRING },
          },
        },
      },
    },
  },
} as const;
