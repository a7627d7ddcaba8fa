import { RUNBOOK_MARKDOWN } from "../generated/runbook";
import { count, seconds } from "./format";
import { headingAnchors, slug } from "./markdown";
import { type AlertView, type OpsSnapshot, pick } from "./ops";

/**
 * The Grafana dashboards the console links to, and the queue-age thresholds
 * its tiles colour by — the same constants as `grafana/src/common.ts`, so the
 * red on the console is the red on the dashboard and the line that pages
 * (a test fails if they drift).
 */
export const GRAFANA_DASHBOARDS = {
  overview: { uid: "surge-overview", title: "Surge / Overview" },
  workers: { uid: "surge-workers", title: "Surge / Workers" },
  lambda: { uid: "surge-lambda", title: "Surge / Lambda" },
} as const;

export type DashboardKey = keyof typeof GRAFANA_DASHBOARDS;

/** Oldest-order age that warns and that pages, in seconds. */
export const QUEUE_AGE_THRESHOLDS = { warningSeconds: 60, criticalSeconds: 300 } as const;

/** Link to a dashboard over the last `from` (Grafana relative time), refreshing every 5 s. */
export function dashboardUrl(grafanaUrl: string, key: DashboardKey, from = "now-1h"): string {
  const { uid } = GRAFANA_DASHBOARDS[key];
  const params = new URLSearchParams({ from, to: "now", refresh: "5s" });
  return `${grafanaUrl.replace(/\/+$/, "")}/d/${uid}?${params.toString()}`;
}

export type Severity = "ok" | "warning" | "critical";

export function queueAgeSeverity(seconds: number | undefined): Severity {
  if (seconds === undefined || !Number.isFinite(seconds)) return "ok";
  if (seconds >= QUEUE_AGE_THRESHOLDS.criticalSeconds) return "critical";
  if (seconds >= QUEUE_AGE_THRESHOLDS.warningSeconds) return "warning";
  return "ok";
}

/** The Runbook page's headings, built from docs/runbook.md. */
const RUNBOOK_ANCHORS = headingAnchors(RUNBOOK_MARKDOWN);

/** Where an alert's "runbook ↗" goes: the console's Runbook page, at the alert's heading. */
export function runbookHref(
  alert: Pick<AlertView, "name" | "annotations">,
  anchors: readonly string[] = RUNBOOK_ANCHORS,
): string {
  const annotation = alert.annotations.runbook?.trim();
  if (annotation && /^https?:\/\//.test(annotation)) return annotation;
  // A rule's annotation names the doc in the repository ("docs/runbook.md#surgedeadletters"): a
  // relative link would land on the console's 404. Its anchor, or the alert's own heading, is used here.
  const fragment = annotation?.split("#")[1];
  const anchor = [fragment, slug(alert.name)].find((a) => a && anchors.includes(a));
  return anchor ? `/runbook#${anchor}` : "/runbook";
}

/**
 * An alert's "source ↗" on the configured external URL: Prometheus builds generator links from its
 * own host name (`http://<machine>:9090/graph?…`), unreachable from a browser elsewhere. Undefined
 * without a configured URL for that sender, or without a generator link.
 */
export function sourceHref(
  alert: Pick<AlertView, "source" | "links">,
  urls: { prometheusUrl: string | null; grafanaUrl: string | null },
): string | undefined {
  const generator = alert.links.generator;
  const base = alert.source === "grafana" ? urls.grafanaUrl : urls.prometheusUrl;
  if (!generator || !base) return undefined;
  let target: URL;
  try {
    target = new URL(generator);
  } catch {
    return undefined;
  }
  return `${base.replace(/\/+$/, "")}${target.pathname}${target.search}${target.hash}`;
}

/**
 * The live figure an alert's text quotes ("24 order(s) in the dead-letter queue" was the value when
 * the rule was evaluated), from the latest snapshot; undefined for alerts without one.
 */
export function liveFigure(
  alert: Pick<AlertView, "name" | "labels">,
  state: OpsSnapshot | undefined,
): string | undefined {
  const queue = pick(state, "queue");
  const fleet = pick(state, "fleet");
  switch (alert.labels.alertname ?? alert.name) {
    case "SurgeQueueAgeWarning":
    case "SurgeQueueAgeCritical":
    case "Surge queue age (warning)":
    case "Surge queue age (critical)":
      return queue ? `oldest order ${seconds(queue.oldestAgeSeconds)}` : undefined;
    case "SurgeDeadLetters":
    case "surge-STAGE-dead-letters":
      return queue ? `${count(queue.dlq)} in the DLQ` : undefined;
    case "SurgeProcessingSlowerThanArrival":
      return queue ? `${count(queue.backlog ?? queue.visible)} orders waiting` : undefined;
    case "SurgeFleetBelowDesired":
    case "SurgeWorkerTaskDown":
      return fleet ? `${fleet.running} of ${fleet.desiredCount} tasks running` : undefined;
    case "SurgeOutboxStalled":
      return queue?.outboxPending !== undefined ? `${count(queue.outboxPending)} unpublished` : undefined;
    default:
      return undefined;
  }
}
