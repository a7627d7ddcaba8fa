/**
 * JSON schemas for Grafana's provisioning files, written from the field names
 * of Grafana's provisioning loader (pkg/services/provisioning: datasources
 * `upsertDataSourceFromConfigV1`, dashboards `configs`, alerting `AlertRuleGroupV1`,
 * `AlertRuleV1`, `QueryV1`, `ContactPointV1`/`ReceiverV1`, the policy's Route,
 * and the webhook notifier's settings). Grafana does not run here, so these are
 * what stands between a typo (`noDataStat`) and a file Grafana ignores or rejects.
 * `additionalProperties: false` throughout: the loader silently drops unknown keys.
 */

/** Prometheus-style durations, as the loader parses them (model.ParseDuration). */
export const DURATION = "^(0|(\\d+y)?(\\d+w)?(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?)$";
/** Grafana UIDs: at most 40 characters of letters, digits, - and _. */
const UID = { type: "string", pattern: "^[a-zA-Z0-9_-]{1,40}$" } as const;
const ORG_ID = { type: "integer", minimum: 1 } as const;
const STRING_MAP = { type: "object", additionalProperties: { type: "string" } } as const;
const DURATION_STRING = { type: "string", pattern: DURATION, minLength: 1 } as const;

export const datasourcesSchema = {
  $id: "grafana-provisioning-datasources",
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "datasources"],
  properties: {
    apiVersion: { const: 1 },
    datasources: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "type", "url"],
        properties: {
          orgId: ORG_ID,
          orgName: { type: "string" },
          version: { type: "integer" },
          name: { type: "string", minLength: 1 },
          type: { type: "string", minLength: 1 },
          access: { enum: ["proxy", "direct"] },
          url: { type: "string", minLength: 1 },
          user: { type: "string" },
          database: { type: "string" },
          basicAuth: { type: "boolean" },
          basicAuthUser: { type: "string" },
          withCredentials: { type: "boolean" },
          isDefault: { type: "boolean" },
          correlations: { type: "array" },
          jsonData: { type: "object" },
          secureJsonData: STRING_MAP,
          editable: { type: "boolean" },
          uid: UID,
        },
      },
    },
    deleteDatasources: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name"],
        properties: { name: { type: "string" }, orgId: ORG_ID, orgName: { type: "string" } },
      },
    },
  },
} as const;

export const dashboardProvidersSchema = {
  $id: "grafana-provisioning-dashboard-providers",
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "providers"],
  properties: {
    apiVersion: { const: 1 },
    providers: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "options"],
        properties: {
          name: { type: "string", minLength: 1 },
          type: { const: "file" },
          orgId: ORG_ID,
          folder: { type: "string" },
          folderUid: UID,
          editable: { type: "boolean" },
          disableDeletion: { type: "boolean" },
          updateIntervalSeconds: { type: "integer", minimum: 1 },
          allowUiUpdates: { type: "boolean" },
          options: {
            type: "object",
            additionalProperties: false,
            required: ["path"],
            properties: { path: { type: "string", minLength: 1 }, foldersFromFilesStructure: { type: "boolean" } },
          },
        },
      },
    },
  },
} as const;

const alertQuery = {
  type: "object",
  additionalProperties: false,
  required: ["refId", "datasourceUid", "model"],
  properties: {
    refId: { type: "string", minLength: 1 },
    queryType: { type: "string" },
    relativeTimeRange: {
      type: "object",
      additionalProperties: false,
      required: ["from", "to"],
      properties: { from: { type: "integer", minimum: 0 }, to: { type: "integer", minimum: 0 } },
    },
    datasourceUid: { type: "string", minLength: 1 },
    model: { type: "object", required: ["refId"], properties: { refId: { type: "string" } } },
  },
} as const;

const alertRule = {
  type: "object",
  additionalProperties: false,
  required: ["uid", "title", "condition", "data"],
  properties: {
    uid: UID,
    title: { type: "string", minLength: 1, maxLength: 190 },
    condition: { type: "string", minLength: 1 },
    data: { type: "array", minItems: 1, items: alertQuery },
    dashboardUid: UID,
    panelId: { type: "integer", minimum: 1 },
    noDataState: { enum: ["Alerting", "NoData", "OK", "KeepLast"] },
    execErrState: { enum: ["Alerting", "Error", "OK", "KeepLast"] },
    for: DURATION_STRING,
    keepFiringFor: DURATION_STRING,
    missing_series_evals_to_resolve: { type: "integer", minimum: 0 },
    annotations: STRING_MAP,
    labels: STRING_MAP,
    isPaused: { type: "boolean" },
    notification_settings: {
      type: "object",
      additionalProperties: false,
      required: ["receiver"],
      properties: {
        receiver: { type: "string", minLength: 1 },
        group_by: { type: "array", items: { type: "string" } },
        group_wait: DURATION_STRING,
        group_interval: DURATION_STRING,
        repeat_interval: DURATION_STRING,
        mute_time_intervals: { type: "array", items: { type: "string" } },
        active_time_intervals: { type: "array", items: { type: "string" } },
      },
    },
  },
} as const;

/** The notifier settings Grafana's webhook integration reads (grafana/alerting receivers/webhook). */
const webhookSettings = {
  type: "object",
  additionalProperties: false,
  required: ["url"],
  properties: {
    url: { type: "string", minLength: 1 },
    httpMethod: { enum: ["POST", "PUT"] },
    maxAlerts: { type: ["integer", "string"] },
    authorization_scheme: { type: "string" },
    authorization_credentials: { type: "string" },
    username: { type: "string" },
    password: { type: "string" },
    title: { type: "string" },
    message: { type: "string" },
  },
} as const;

const routeProperties = {
  receiver: { type: "string", minLength: 1 },
  group_by: { type: "array", items: { type: "string" } },
  group_wait: DURATION_STRING,
  group_interval: DURATION_STRING,
  repeat_interval: DURATION_STRING,
  matchers: { type: "array", items: { type: "string" } },
  object_matchers: {
    type: "array",
    items: { type: "array", minItems: 3, maxItems: 3, items: { type: "string" } },
  },
  mute_time_intervals: { type: "array", items: { type: "string" } },
  active_time_intervals: { type: "array", items: { type: "string" } },
  continue: { type: "boolean" },
  routes: { type: "array", items: { $ref: "#/$defs/route" } },
};
/** A notification policy route (Alertmanager's Route, as Grafana's provisioning reads it). */
const route = { type: "object", additionalProperties: false, properties: routeProperties } as const;
/** The root policy: it also takes orgId, and must name a receiver. */
const rootRoute = {
  type: "object",
  additionalProperties: false,
  required: ["receiver"],
  properties: { ...routeProperties, orgId: ORG_ID },
} as const;

/** One schema for every file under provisioning/alerting (Grafana reads them all as AlertingFileV1). */
export const alertingSchema = {
  $id: "grafana-provisioning-alerting",
  type: "object",
  additionalProperties: false,
  required: ["apiVersion"],
  $defs: { route },
  properties: {
    apiVersion: { const: 1 },
    groups: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "folder", "interval", "rules"],
        properties: {
          orgId: ORG_ID,
          name: { type: "string", minLength: 1 },
          folder: { type: "string", minLength: 1 },
          interval: DURATION_STRING,
          rules: { type: "array", minItems: 1, items: alertRule },
        },
      },
    },
    deleteRules: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["uid"],
        properties: { uid: UID, orgId: ORG_ID },
      },
    },
    contactPoints: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "receivers"],
        properties: {
          orgId: ORG_ID,
          name: { type: "string", minLength: 1 },
          receivers: {
            type: "array",
            minItems: 1,
            items: {
              type: "object",
              additionalProperties: false,
              required: ["uid", "type", "settings"],
              properties: {
                uid: UID,
                type: { type: "string", minLength: 1 },
                settings: { type: "object", minProperties: 1 },
                disableResolveMessage: { type: "boolean" },
              },
              // The settings each integration reads; Surge only provisions webhooks.
              if: { properties: { type: { const: "webhook" } } },
              // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable.
              then: { properties: { settings: webhookSettings } },
            },
          },
        },
      },
    },
    deleteContactPoints: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["uid"],
        properties: { uid: UID, orgId: ORG_ID },
      },
    },
    policies: { type: "array", items: rootRoute },
    resetPolicies: { type: "array", items: ORG_ID },
  },
} as const;

/** What Grafana needs of a dashboard JSON file to provision it (and what these dashboards promise). */
export const dashboardSchema = {
  $id: "grafana-dashboard",
  type: "object",
  required: ["title", "uid", "schemaVersion", "panels", "time"],
  properties: {
    title: { type: "string", minLength: 1 },
    uid: UID,
    // Provisioned dashboards must not carry a database id: Grafana assigns it.
    id: { type: "null" },
    schemaVersion: { type: "integer", minimum: 36 },
    editable: { type: "boolean" },
    tags: { type: "array", items: { type: "string" } },
    time: {
      type: "object",
      required: ["from", "to"],
      properties: { from: { type: "string" }, to: { type: "string" } },
    },
    refresh: { type: "string" },
    panels: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["type", "id", "gridPos", "title"],
        properties: {
          type: { type: "string", minLength: 1 },
          id: { type: "integer", minimum: 1 },
          title: { type: "string", minLength: 1 },
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
                refId: { type: "string", minLength: 1 },
                expr: { type: "string", minLength: 1 },
                datasource: { type: "object", required: ["uid"], properties: { uid: { type: "string" } } },
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
              name: { type: "string" },
              datasource: { type: "object" },
              enable: { type: "boolean" },
              iconColor: { type: "string" },
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
            properties: { name: { type: "string" }, type: { type: "string" } },
          },
        },
      },
    },
  },
} as const;
