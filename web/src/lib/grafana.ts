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
