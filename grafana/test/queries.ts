/**
 * Every PromQL expression in the generated artifacts, read back from the
 * rendered files (not from the builders), so the tests check what ships.
 */
import { parse } from "yaml";
import { renderArtifacts } from "../src/artifacts.js";
import { DATASOURCE } from "../src/common.js";

export type QueryKind = "panel" | "annotation" | "variable" | "recording rule" | "alerting rule" | "grafana rule";

export interface QuerySite {
  kind: QueryKind;
  /** Where it is, for failure messages: file, panel title, refId / rule name. */
  where: string;
  expr: string;
}

interface DashboardJson {
  title: string;
  panels?: Array<{ title?: string; type: string; targets?: Array<{ expr?: string; refId?: string }> }>;
  annotations?: { list?: Array<{ name: string; expr?: string }> };
  templating?: { list?: Array<{ name: string; type: string; query?: string | { query?: string } }> };
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string }> }>;
}

interface GrafanaRulesFile {
  groups: Array<{
    rules: Array<{ title: string; data: Array<{ refId: string; datasourceUid: string; model: { expr?: string } }> }>;
  }>;
}

export function renderedArtifacts(): Map<string, string> {
  return renderArtifacts();
}

export function dashboards(artifacts = renderedArtifacts()): Array<{ file: string; json: DashboardJson }> {
  return [...artifacts]
    .filter(([path]) => path.endsWith(".json"))
    .map(([file, content]) => ({ file, json: JSON.parse(content) as DashboardJson }));
}

export function collectQueries(artifacts = renderedArtifacts()): QuerySite[] {
  const sites: QuerySite[] = [];
  for (const { json } of dashboards(artifacts)) {
    for (const panel of json.panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) {
          sites.push({
            kind: "panel",
            where: `${json.title} › ${panel.title} › ${target.refId}`,
            expr: target.expr,
          });
        }
      }
    }
    for (const a of json.annotations?.list ?? []) {
      if (a.expr !== undefined)
        sites.push({ kind: "annotation", where: `${json.title} › annotation ${a.name}`, expr: a.expr });
    }
    for (const v of json.templating?.list ?? []) {
      const query = typeof v.query === "string" ? v.query : v.query?.query;
      if (v.type === "query" && query)
        sites.push({ kind: "variable", where: `${json.title} › $${v.name}`, expr: query });
    }
  }
  for (const [path, content] of artifacts) {
    if (path.startsWith("grafana/prometheus/rules/")) {
      for (const group of (parse(content) as RuleFile).groups) {
        for (const rule of group.rules) {
          sites.push(
            rule.record !== undefined
              ? { kind: "recording rule", where: `${path} › ${rule.record}`, expr: rule.expr }
              : { kind: "alerting rule", where: `${path} › ${rule.alert}`, expr: rule.expr },
          );
        }
      }
    }
    if (path === "grafana/provisioning/alerting/surge-rules.yaml") {
      for (const group of (parse(content) as GrafanaRulesFile).groups) {
        for (const rule of group.rules) {
          for (const q of rule.data) {
            if (q.datasourceUid === DATASOURCE.uid && q.model.expr !== undefined) {
              sites.push({ kind: "grafana rule", where: `${path} › ${rule.title} › ${q.refId}`, expr: q.model.expr });
            }
          }
        }
      }
    }
  }
  return sites;
}

/** Recording rule name → the expression that records it (several, for the quantile rules). */
export function recordingRuleExprs(artifacts = renderedArtifacts()): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const site of collectQueries(artifacts)) {
    if (site.kind !== "recording rule") continue;
    const name = site.where.split(" › ")[1] as string;
    out.set(name, [...(out.get(name) ?? []), site.expr]);
  }
  return out;
}
