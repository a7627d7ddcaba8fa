/**
 * Every generated file, rendered in memory: path (from the repository root) →
 * content. `generate.ts` writes them; the stale-output test compares them with
 * what is committed.
 */
import { alertRulesFile, contactPointsFile, policiesFile, renderYaml } from "./alerting.js";
import { DASHBOARDS, dashboardJson } from "./common.js";
import { lambdaDashboard } from "./dashboards/lambda.js";
import { overviewDashboard } from "./dashboards/overview.js";
import { workersDashboard } from "./dashboards/workers.js";
import { LOCAL_DEFAULTS, renderPrometheusConfig } from "./prometheus/config.js";
import { alertingRules, recordingRules, renderRuleFile } from "./prometheus/rules.js";
import { dashboardProvidersFile, datasourcesFile } from "./provisioning.js";

/** Directories whose every file is generated: a file there that the generator does not produce is stale. */
export const GENERATED_DIRS = [
  "grafana/provisioning/datasources",
  "grafana/provisioning/dashboards",
  "grafana/provisioning/alerting",
  "grafana/prometheus/rules",
] as const;

export function renderArtifacts(): Map<string, string> {
  return new Map([
    ["grafana/provisioning/datasources/surge.yaml", renderYaml(datasourcesFile())],
    ["grafana/provisioning/dashboards/surge.yaml", renderYaml(dashboardProvidersFile())],
    [`grafana/provisioning/dashboards/${DASHBOARDS.overview.file}`, dashboardJson(overviewDashboard())],
    [`grafana/provisioning/dashboards/${DASHBOARDS.workers.file}`, dashboardJson(workersDashboard())],
    [`grafana/provisioning/dashboards/${DASHBOARDS.lambda.file}`, dashboardJson(lambdaDashboard())],
    ["grafana/provisioning/alerting/surge-rules.yaml", renderYaml(alertRulesFile())],
    ["grafana/provisioning/alerting/surge-contact-points.yaml", renderYaml(contactPointsFile())],
    ["grafana/provisioning/alerting/surge-policies.yaml", renderYaml(policiesFile())],
    ["grafana/prometheus/prometheus.yml", renderPrometheusConfig(LOCAL_DEFAULTS)],
    ["grafana/prometheus/rules/surge-recording.yml", renderRuleFile(recordingRules())],
    ["grafana/prometheus/rules/surge-alerts.yml", renderRuleFile(alertingRules())],
  ]);
}
