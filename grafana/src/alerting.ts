/**
 * Grafana-managed alerting: the queue-age rules, the contact point that posts to the API's alert
 * webhook, and the policy. Rules are built with the foundation SDK (Grafana's HTTP API shapes)
 * and mapped to the file-provisioning format by `provisionedRule()`.
 */
import { QueryBuilder, RuleBuilder } from "@grafana/grafana-foundation-sdk/alerting";
import { TypeReduceBuilder, TypeThresholdBuilder } from "@grafana/grafana-foundation-sdk/expr";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { stringify } from "yaml";
import { DASHBOARDS, DATASOURCE, EXPRESSION_DATASOURCE, FOLDER, OVERVIEW_PANEL_IDS, QUEUE_AGE } from "./common.js";

/** Grafana evaluates rules on a 10 s base tick: a group interval must be a multiple of it. */
export const GRAFANA_BASE_INTERVAL_SECONDS = 10;

/**
 * Evaluated every 20 s: the query is one instant lookup, and a 2-minute `for`
 * then needs 6 consecutive breaches, so one slow scrape cannot page anyone.
 */
const RULE_GROUP = { name: "surge-queue-age", intervalSeconds: 20 } as const;

const CONTACT_POINT = { name: "Surge console", uid: "surge-console-webhook" } as const;

/** The environment the provisioning files read (Grafana expands `${VAR}` in provisioning values). */
export const GRAFANA_ENV = {
  prometheusUrl: "SURGE_PROMETHEUS_URL",
  webhookUrl: "SURGE_ALERT_WEBHOOK_URL",
  webhookToken: "SURGE_ALERT_WEBHOOK_TOKEN",
} as const;

/** How often Grafana re-sends a still-firing alert; the API marks one stale after twice this. */
const REPEAT_INTERVAL = "1h";

const QUEUE_AGE_QUERY = "max(surge_queue_oldest_order_age_seconds)";

interface QueueAgeRule {
  uid: string;
  title: string;
  severity: "warning" | "critical";
  thresholdSeconds: number;
  for: string;
  noDataState: "OK" | "Alerting" | "NoData" | "KeepLast";
  execErrState: "Alerting" | "Error" | "OK" | "KeepLast";
  summary: string;
}

const QUEUE_AGE_RULES: QueueAgeRule[] = [
  {
    uid: "surge-queue-age-warning",
    title: "Surge queue age (warning)",
    severity: "warning",
    thresholdSeconds: QUEUE_AGE.warningSeconds,
    for: "2m",
    // The gauge always has a value while the API is scraped (0 when nothing waits), so no
    // data means we are blind: say so as its own DatasourceNoData alert rather than
    // "queue age high" (misleading) or OK (silent).
    noDataState: "NoData",
    // A query error (Prometheus down, bad query) is reported as a DatasourceError alert,
    // for the same reason: it is not a queue-age problem and must not look like one.
    execErrState: "Error",
    summary: `The oldest unpaid order has waited over ${QUEUE_AGE.warningSeconds} s for 2 minutes`,
  },
  {
    uid: "surge-queue-age-critical",
    title: "Surge queue age (critical)",
    severity: "critical",
    thresholdSeconds: QUEUE_AGE.criticalSeconds,
    for: "1m",
    // KeepLast: a scrape gap or a Prometheus restart in the middle of an incident must not
    // resolve a critical page (and page again minutes later). Blindness itself is reported
    // once, by the warning rule above.
    noDataState: "KeepLast",
    execErrState: "KeepLast",
    summary: `The oldest unpaid order has waited over ${QUEUE_AGE.criticalSeconds / 60} minutes`,
  },
];

function queueAgeRule(rule: QueueAgeRule): RuleBuilder {
  return new RuleBuilder(rule.title)
    .uid(rule.uid)
    .condition("C")
    .queries([
      new QueryBuilder("A")
        .datasourceUid(DATASOURCE.uid)
        .relativeTimeRange({ from: 300, to: 0 })
        .model(new DataqueryBuilder().datasource(DATASOURCE).refId("A").expr(QUEUE_AGE_QUERY).instant()),
      new QueryBuilder("B")
        .datasourceUid(EXPRESSION_DATASOURCE.uid)
        .relativeTimeRange({ from: 0, to: 0 })
        .model(new TypeReduceBuilder().datasource(EXPRESSION_DATASOURCE).refId("B").expression("A").reducer("last")),
      new QueryBuilder("C")
        .datasourceUid(EXPRESSION_DATASOURCE.uid)
        .relativeTimeRange({ from: 0, to: 0 })
        .model(
          new TypeThresholdBuilder()
            .datasource(EXPRESSION_DATASOURCE)
            .refId("C")
            .expression("B")
            .conditions([{ evaluator: { type: "gt", params: [rule.thresholdSeconds] } }]),
        ),
    ])
    .forDuration(rule.for)
    .noDataState(rule.noDataState)
    .execErrState(rule.execErrState)
    .labels({ severity: rule.severity, service: "surge" })
    .annotations({
      summary: rule.summary,
      // Grafana's template language: $values.B is the reduced query result.
      description:
        "The oldest accepted order not yet paid is {{ humanizeDuration $values.B.Value }} old. " +
        "Add worker tasks (console, or PUT /ops/fleet) or check autoscaling.",
      runbook: `docs/runbook.md#${rule.uid}`,
    });
}

/** A rule in Grafana's file-provisioning shape (pkg/services/provisioning/alerting: AlertRuleV1). */
function provisionedRule(builder: RuleBuilder): Record<string, unknown> {
  const rule = builder.build();
  return {
    uid: rule.uid,
    title: rule.title,
    condition: rule.condition,
    data: rule.data.map((q) => ({
      refId: q.refId,
      relativeTimeRange: q.relativeTimeRange,
      datasourceUid: q.datasourceUid,
      // The SDK's query objects carry a type-marker method: keep the JSON data only.
      model: JSON.parse(JSON.stringify(q.model)) as unknown,
    })),
    dashboardUid: DASHBOARDS.overview.uid,
    panelId: OVERVIEW_PANEL_IDS.oldestOrderAge,
    noDataState: rule.noDataState,
    execErrState: rule.execErrState,
    for: rule.for,
    labels: rule.labels,
    annotations: rule.annotations,
    isPaused: false,
  };
}

export function alertRulesFile(): Record<string, unknown> {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: RULE_GROUP.name,
        folder: FOLDER.title,
        interval: `${RULE_GROUP.intervalSeconds}s`,
        rules: QUEUE_AGE_RULES.map((r) => provisionedRule(queueAgeRule(r))),
      },
    ],
  };
}

export function contactPointsFile(): Record<string, unknown> {
  return {
    apiVersion: 1,
    contactPoints: [
      {
        orgId: 1,
        name: CONTACT_POINT.name,
        receivers: [
          {
            uid: CONTACT_POINT.uid,
            type: "webhook",
            settings: {
              // e.g. http://127.0.0.1:8080/ops/alerts (compose sets it from PORT).
              url: `\${${GRAFANA_ENV.webhookUrl}}`,
              httpMethod: "POST",
              authorization_scheme: "Bearer",
              // A read-only ops token: the ops router lets it post alerts and nothing else.
              authorization_credentials: `\${${GRAFANA_ENV.webhookToken}}`,
            },
            // The console must hear "resolved" too, or a fixed incident stays red.
            disableResolveMessage: false,
          },
        ],
      },
    ],
  };
}

/**
 * The organisation's notification policy tree (provisioning replaces it
 * whole): everything to the console webhook, grouped per rule, sent 10 s
 * after the first alert of a group, re-sent hourly while it fires.
 */
export function policiesFile(): Record<string, unknown> {
  return {
    apiVersion: 1,
    policies: [
      {
        orgId: 1,
        receiver: CONTACT_POINT.name,
        group_by: ["grafana_folder", "alertname"],
        group_wait: "10s",
        group_interval: "1m",
        repeat_interval: REPEAT_INTERVAL,
      },
    ],
  };
}

const PROVISIONING_HEADER =
  "# Generated by `npm run -w grafana generate` from grafana/src: edit the source, not this file.\n";

export function renderYaml(document: Record<string, unknown>): string {
  return PROVISIONING_HEADER + stringify(document, { lineWidth: 0 });
}
