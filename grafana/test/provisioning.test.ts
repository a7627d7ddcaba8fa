/**
 * Grafana's provisioning files are valid by the field names and rules
 * Grafana's provisioning loader uses: JSON schemas for the shapes, and the
 * loader's (and ngalert's) checks a schema cannot express, written out here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { GRAFANA_BASE_INTERVAL_SECONDS } from "../src/alerting.js";
import { DASHBOARDS, DATASOURCE, EXPRESSION_DATASOURCE } from "../src/common.js";
import { CONTAINER_PROVISIONING_DIR } from "../src/provisioning.js";
import { repoRoot } from "./paths.js";
import {
  alertingSchema,
  DURATION,
  dashboardProvidersSchema,
  dashboardSchema,
  datasourcesSchema,
} from "./provisioning-schemas.js";

const provisioning = join(repoRoot, "grafana/provisioning");
const read = (dir: string) =>
  readdirSync(join(provisioning, dir))
    .sort()
    .map((name) => ({
      name: `${dir}/${name}`,
      text: readFileSync(join(provisioning, dir, name), "utf8"),
    }));
const yamlFiles = (dir: string) =>
  read(dir)
    .filter((f) => /\.ya?ml$/.test(f.name))
    .map((f) => ({ ...f, doc: parse(f.text) as Record<string, unknown> }));

// maxAlerts is a number or a numeric string in Grafana (json.Number): a union type.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = {
  datasources: ajv.compile(datasourcesSchema),
  providers: ajv.compile(dashboardProvidersSchema),
  alerting: ajv.compile(alertingSchema),
  dashboard: ajv.compile(dashboardSchema),
};
function errorsOf(validate: ValidateFunction, doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
}

/** Seconds in a Prometheus-style duration ("1m30s"), as Grafana's loader parses it. */
export function durationSeconds(text: string): number {
  if (!new RegExp(DURATION).test(text) || text === "") throw new Error(`not a duration: ${text}`);
  const units: Record<string, number> = { y: 31_536_000, w: 604_800, d: 86_400, h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(n) * (units[unit as string] ?? 0);
  return total;
}

interface AlertingDoc {
  groups?: Array<{
    orgId?: number;
    name: string;
    folder: string;
    interval: string;
    rules: Array<{
      uid: string;
      title: string;
      condition: string;
      for?: string;
      dashboardUid?: string;
      data: Array<{ refId: string; datasourceUid: string; model: { refId: string; expression?: string } }>;
    }>;
  }>;
  contactPoints?: Array<{
    name: string;
    receivers: Array<{ uid: string; type: string; settings: Record<string, unknown> }>;
  }>;
  policies?: Array<Route>;
}
interface Route {
  receiver?: string;
  routes?: Route[];
}

/**
 * What Grafana's loader and ngalert check beyond the shape: group intervals on
 * the 10 s base tick, `for` on the group's tick, conditions and expressions
 * naming queries that exist, datasources that are provisioned, unique rule
 * UIDs and titles, and policies routing to contact points that exist.
 */
function alertingProblems(docs: AlertingDoc[], datasourceUids: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const ruleUids = new Set<string>();
  const titles = new Set<string>();
  const contactPoints = new Set(docs.flatMap((d) => d.contactPoints ?? []).map((c) => c.name));
  for (const group of docs.flatMap((d) => d.groups ?? [])) {
    const interval = durationSeconds(group.interval);
    if (interval <= 0 || interval % GRAFANA_BASE_INTERVAL_SECONDS !== 0) {
      problems.push(
        `group ${group.name}: interval ${group.interval} is not a multiple of ${GRAFANA_BASE_INTERVAL_SECONDS}s`,
      );
    }
    for (const rule of group.rules) {
      const where = `rule ${rule.title}`;
      if (ruleUids.has(rule.uid)) problems.push(`${where}: uid ${rule.uid} used twice`);
      ruleUids.add(rule.uid);
      const titleKey = `${group.folder}/${rule.title}`;
      if (titles.has(titleKey)) problems.push(`${where}: title not unique in folder ${group.folder}`);
      titles.add(titleKey);
      const forSeconds = durationSeconds(rule.for ?? "0s");
      // Pending is counted in evaluations: a `for` off the group's tick is rounded by Grafana.
      if (forSeconds > 0 && (forSeconds < interval || forSeconds % interval !== 0)) {
        problems.push(`${where}: for ${rule.for} is not a whole number of ${group.interval} evaluations`);
      }
      const refIds = rule.data.map((q) => q.refId);
      if (new Set(refIds).size !== refIds.length) problems.push(`${where}: duplicate refIds ${refIds}`);
      if (!refIds.includes(rule.condition)) problems.push(`${where}: condition ${rule.condition} names no query`);
      for (const q of rule.data) {
        if (q.model.refId !== q.refId) problems.push(`${where}: ${q.refId}'s model says refId ${q.model.refId}`);
        if (q.datasourceUid === EXPRESSION_DATASOURCE.uid) {
          if (!q.model.expression || !refIds.includes(q.model.expression)) {
            problems.push(`${where}: expression ${q.refId} reads ${q.model.expression}, which is not a query`);
          }
        } else if (!datasourceUids.has(q.datasourceUid)) {
          problems.push(`${where}: ${q.refId} queries datasource ${q.datasourceUid}, which is not provisioned`);
        }
      }
    }
  }
  const receiverUids = new Set<string>();
  for (const cp of docs.flatMap((d) => d.contactPoints ?? [])) {
    for (const r of cp.receivers) {
      if (receiverUids.has(r.uid)) problems.push(`contact point ${cp.name}: receiver uid ${r.uid} used twice`);
      receiverUids.add(r.uid);
      const s = r.settings;
      if (r.type === "webhook" && s.username && s.password && s.authorization_credentials) {
        problems.push(`contact point ${cp.name}: basic auth and an Authorization header together are refused`);
      }
    }
  }
  const walk = (route: Route, path: string) => {
    if (route.receiver !== undefined && !contactPoints.has(route.receiver)) {
      problems.push(`policy ${path}: receiver "${route.receiver}" is not a provisioned contact point`);
    }
    route.routes?.forEach((r, i) => {
      walk(r, `${path}.routes[${i}]`);
    });
  };
  docs
    .flatMap((d) => d.policies ?? [])
    .forEach((p, i) => {
      walk(p, `policies[${i}]`);
    });
  return problems;
}

describe("Grafana provisioning", () => {
  const datasourceFiles = yamlFiles("datasources");
  const providerFiles = yamlFiles("dashboards");
  const alertingFiles = yamlFiles("alerting");
  const dashboardFiles = read("dashboards").filter((f) => f.name.endsWith(".json"));
  const provisionedUids = new Set(
    datasourceFiles.flatMap((f) => (f.doc.datasources as Array<{ uid: string }>).map((d) => d.uid)),
  );

  it("datasources: valid, one default, the fixed uid every panel and rule names", () => {
    expect(datasourceFiles.length).toBeGreaterThan(0);
    for (const f of datasourceFiles) expect(errorsOf(validators.datasources, f.doc), f.name).toEqual([]);
    const all = datasourceFiles.flatMap((f) => f.doc.datasources as Array<{ uid: string; isDefault?: boolean }>);
    expect(all.filter((d) => d.isDefault).length).toBeLessThanOrEqual(1);
    expect(provisionedUids).toContain(DATASOURCE.uid);
  });

  it("dashboard providers: valid, unique names, reading the directory the dashboards are mounted in", () => {
    expect(providerFiles.length).toBe(1);
    for (const f of providerFiles) expect(errorsOf(validators.providers, f.doc), f.name).toEqual([]);
    const providers = providerFiles.flatMap(
      (f) => f.doc.providers as Array<{ name: string; options: { path: string } }>,
    );
    expect(new Set(providers.map((p) => p.name)).size).toBe(providers.length);
    expect(providers.map((p) => p.options.path)).toEqual([`${CONTAINER_PROVISIONING_DIR}/dashboards`]);
  });

  it("dashboards: valid JSON dashboards, panels inside the 24-column grid, unique uids", () => {
    expect(dashboardFiles.map((f) => f.name.split("/")[1]).sort()).toEqual(
      Object.values(DASHBOARDS)
        .map((d) => d.file)
        .sort(),
    );
    const uids = new Set<string>();
    for (const f of dashboardFiles) {
      const doc = JSON.parse(f.text) as { uid: string; panels: Array<{ gridPos: { x: number; w: number } }> };
      expect(errorsOf(validators.dashboard, doc), f.name).toEqual([]);
      for (const p of doc.panels) expect(p.gridPos.x + p.gridPos.w, f.name).toBeLessThanOrEqual(24);
      expect(uids.has(doc.uid)).toBe(false);
      uids.add(doc.uid);
    }
  });

  it("alerting: rules, contact points and policies valid, and consistent with each other", () => {
    expect(alertingFiles.map((f) => f.name)).toEqual([
      "alerting/surge-contact-points.yaml",
      "alerting/surge-policies.yaml",
      "alerting/surge-rules.yaml",
    ]);
    for (const f of alertingFiles) expect(errorsOf(validators.alerting, f.doc), f.name).toEqual([]);
    expect(
      alertingProblems(
        alertingFiles.map((f) => f.doc as AlertingDoc),
        provisionedUids,
      ),
    ).toEqual([]);
    const rules = (alertingFiles.flatMap((f) => (f.doc as AlertingDoc).groups ?? []) ?? []).flatMap((g) => g.rules);
    expect(rules.map((r) => r.uid)).toEqual(["surge-queue-age-warning", "surge-queue-age-critical"]);
  });

  it("only reads environment variables the compose file gives Grafana", () => {
    const compose = parse(readFileSync(join(repoRoot, "grafana/compose.yaml"), "utf8")) as {
      services: Record<string, { environment?: Record<string, string>; entrypoint?: string[]; volumes?: string[] }>;
    };
    const grafana = compose.services.grafana;
    const provided = new Set([
      ...Object.keys(grafana?.environment ?? {}),
      ...[...(grafana?.entrypoint ?? []).join(" ").matchAll(/export (\w+)=/g)].map((m) => m[1]),
    ]);
    const used = new Set(
      [...datasourceFiles, ...providerFiles, ...alertingFiles].flatMap((f) =>
        [...f.text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]),
      ),
    );
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((v) => !provided.has(v))).toEqual([]);
    expect(grafana?.volumes).toContain(`../grafana/provisioning:${CONTAINER_PROVISIONING_DIR}:ro`);
  });

  describe("the checks reject what Grafana would", () => {
    const rulesDoc = () =>
      structuredClone(alertingFiles.find((f) => f.name.endsWith("rules.yaml"))?.doc) as AlertingDoc;
    const all = () => alertingFiles.map((f) => structuredClone(f.doc) as AlertingDoc);

    it("a misspelt field, a bad state, a missing uid, a bad duration", () => {
      /** A copy of the rules file with its first rule changed by `change`. */
      const withFirstRule = (change: (rule: Record<string, unknown>) => void) => {
        const doc = rulesDoc();
        const rule = doc.groups?.[0]?.rules[0] as Record<string, unknown> | undefined;
        if (!rule) throw new Error("no rule");
        change(rule);
        return doc;
      };
      expect(
        errorsOf(
          validators.alerting,
          withFirstRule((r) => Object.assign(r, { noDataStat: "OK" })),
        ),
      ).toEqual(["/groups/0/rules/0 must NOT have additional properties"]);
      expect(
        errorsOf(
          validators.alerting,
          withFirstRule((r) => Object.assign(r, { noDataState: "Nodata" })),
        ).join(),
      ).toMatch(/noDataState must be equal to one of the allowed values/);
      expect(
        errorsOf(
          validators.alerting,
          withFirstRule((r) => delete r.uid),
        ),
      ).toEqual(["/groups/0/rules/0 must have required property 'uid'"]);
      expect(
        errorsOf(
          validators.alerting,
          withFirstRule((r) => Object.assign(r, { for: "2 minutes" })),
        ).join(),
      ).toMatch(/for must match pattern/);
    });

    it("an interval off the 10 s tick, a condition naming no query, an unknown datasource or receiver", () => {
      const docs = all();
      const rules = docs.find((d) => d.groups)?.groups?.[0];
      if (!rules) throw new Error("no rule group");
      rules.interval = "25s";
      const first = rules.rules[0];
      if (!first) throw new Error("no rule");
      first.condition = "D";
      (first.data[0] as { datasourceUid: string }).datasourceUid = "prometheus";
      (docs.find((d) => d.policies)?.policies?.[0] as Route).receiver = "Surge consle";
      expect(alertingProblems(docs, provisionedUids)).toEqual([
        "group surge-queue-age: interval 25s is not a multiple of 10s",
        "rule Surge queue age (warning): for 2m is not a whole number of 25s evaluations",
        "rule Surge queue age (warning): condition D names no query",
        "rule Surge queue age (warning): A queries datasource prometheus, which is not provisioned",
        "rule Surge queue age (critical): for 1m is not a whole number of 25s evaluations",
        'policy policies[0]: receiver "Surge consle" is not a provisioned contact point',
      ]);
    });

    it("a webhook without a url, a datasource with a bad access mode, a provider without a path", () => {
      const cp = structuredClone(alertingFiles.find((f) => f.name.endsWith("contact-points.yaml"))?.doc) as AlertingDoc;
      const settings = cp.contactPoints?.[0]?.receivers[0]?.settings;
      if (!settings) throw new Error("no webhook settings");
      delete settings.url;
      expect(errorsOf(validators.alerting, cp).join()).toMatch(/settings must have required property 'url'/);
      const ds = structuredClone(datasourceFiles[0]?.doc) as { datasources: Array<Record<string, unknown>> };
      Object.assign(ds.datasources[0] ?? {}, { access: "server" });
      expect(errorsOf(validators.datasources, ds).join()).toMatch(/access must be equal to one of the allowed values/);
      const providers = structuredClone(providerFiles[0]?.doc) as {
        providers: Array<{ options: Record<string, unknown> }>;
      };
      delete providers.providers[0]?.options.path;
      expect(errorsOf(validators.providers, providers)).toEqual([
        "/providers/0/options must have required property 'path'",
      ]);
    });
  });
});
