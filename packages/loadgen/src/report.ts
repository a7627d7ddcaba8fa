import type { BurstStats, TimelinePoint } from "./engine.js";
import { type LatencySummaryMs, LOCUST_PERCENTILES } from "./histogram.js";

/**
 * A latency the way Locust prints it: whole milliseconds, except below 10 ms
 * where one decimal keeps an async accept (2–3 ms) from reading as "2" or "3"
 * indistinguishably. The CLI, the CSV and the agreement test all use this.
 */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

export function formatRate(perSecond: number): string {
  return perSecond.toFixed(2);
}

function orderPath(stats: BurstStats): string {
  return `/orders/${stats.spec.mode}`;
}

/**
 * The summary in the shape Locust prints at the end of a headless run: the
 * request statistics table, the response-time percentiles, then the errors.
 */
export function formatLocustSummary(stats: BurstStats): string {
  const name = orderPath(stats);
  const l = stats.latencyMs;
  const fails = `${stats.failures}(${(stats.failureRatio * 100).toFixed(2)}%)`;
  const row = (type: string, label: string) =>
    `${type.padEnd(8)} ${label.padEnd(40)} ${String(stats.requests).padStart(7)} ${fails.padStart(12)} |` +
    ` ${formatMs(l.avg).padStart(7)} ${formatMs(l.min).padStart(7)} ${formatMs(l.max).padStart(7)} ${formatMs(l.p50).padStart(7)} |` +
    ` ${formatRate(stats.throughputPerSecond).padStart(7)} ${formatRate(stats.failuresPerSecond).padStart(11)}`;
  const rule1 = `${"-".repeat(8)}|${"-".repeat(41)}|${"-".repeat(8)}|${"-".repeat(13)}|${"-".repeat(8)}|${"-".repeat(8)}|${"-".repeat(8)}|${"-".repeat(8)}|${"-".repeat(8)}|${"-".repeat(12)}`;
  const lines = [
    `${"Type".padEnd(8)} ${"Name".padEnd(40)} ${"# reqs".padStart(7)} ${"# fails".padStart(12)} |` +
      ` ${"Avg".padStart(7)} ${"Min".padStart(7)} ${"Max".padStart(7)} ${"Med".padStart(7)} |` +
      ` ${"req/s".padStart(7)} ${"failures/s".padStart(11)}`,
    rule1,
    row("POST", name),
    rule1,
    row("", "Aggregated"),
    "",
    "Response time percentiles (approximated)",
  ];
  const head =
    `${"Type".padEnd(8)} ${"Name".padEnd(40)} ` +
    LOCUST_PERCENTILES.map(([label]) => label.padStart(7)).join(" ") +
    ` ${"# reqs".padStart(7)}`;
  const prow = (type: string, label: string) =>
    `${type.padEnd(8)} ${label.padEnd(40)} ` +
    LOCUST_PERCENTILES.map(([, key]) => formatMs(l[key]).padStart(7)).join(" ") +
    ` ${String(stats.requests).padStart(7)}`;
  const rule2 = `${"-".repeat(8)}|${"-".repeat(41)}|${LOCUST_PERCENTILES.map(() => "-".repeat(7)).join("|")}|${"-".repeat(8)}`;
  lines.push(head, rule2, prow("POST", name), rule2, prow("", "Aggregated"));
  // Locust times each request from its send; these say what that leaves out (docs/bursts-and-the-study.md).
  const other = (label: string, summary: LatencySummaryMs) =>
    `${"".padEnd(8)} ${label.padEnd(40)} ` +
    LOCUST_PERCENTILES.map(([, key]) => formatMs(summary[key]).padStart(7)).join(" ") +
    ` ${String(stats.requests).padStart(7)}`;
  lines.push(
    "",
    "Latency above is from each order's scheduled arrival; beside it:",
    other("service time (send → answer)", stats.serviceTimeMs),
    other("schedule lag (scheduled → send)", stats.scheduleLagMs),
  );
  if (stats.correctedLatencyMs) lines.push(other("corrected (coordinated omission)", stats.correctedLatencyMs));
  const errors = Object.entries(stats.errors).sort((a, b) => b[1] - a[1]);
  if (errors.length > 0) {
    lines.push("", "Error report", `${"# occurrences".padStart(14)}  Error`, `${"-".repeat(14)}|${"-".repeat(60)}`);
    for (const [reason, count] of errors) lines.push(`${String(count).padStart(14)}  POST ${name}: ${reason}`);
  }
  const extras = [
    `status ${stats.status}`,
    `${stats.elapsedSeconds.toFixed(1)} s`,
    stats.users
      ? `${stats.users.active} users (target ${stats.users.target}, spawn ${stats.users.spawnRate}/s)`
      : `arrival rate ${stats.ratePerSecond}/s${stats.spec.model === "arrival-rate" && stats.spec.stages ? ` (${stats.spec.stages.length} stages)` : ""}, ${stats.spec.model === "arrival-rate" ? (stats.spec.arrival ?? "constant") : ""} arrivals`,
    `${stats.abandoned} cut off at the end`,
    ...(stats.dropped > 0 ? [`${stats.dropped} arrivals dropped (maxInFlight)`] : []),
  ];
  lines.push("", `Burst ${stats.id}: ${extras.join(", ")}`);
  return lines.join("\n");
}

/** One line of live progress, rewritten in place every second by the CLI. */
export function formatProgressLine(stats: BurstStats): string {
  const elapsed = `${Math.min(stats.elapsedSeconds, stats.spec.durationSeconds).toFixed(0)}s/${stats.spec.durationSeconds}s`;
  const load = stats.users
    ? `users ${stats.users.active}/${stats.users.target}`
    : `rate ${stats.ratePerSecond}/s in-flight ${stats.inFlight}`;
  const last = stats.timeline.at(-1);
  return (
    `[${elapsed.padStart(9)}] ${stats.spec.mode} ${load} | reqs ${stats.requests} fails ${stats.failures}` +
    ` | now ${formatRate(stats.currentRequestsPerSecond)}/s avg ${formatRate(stats.throughputPerSecond)}/s` +
    ` | p50 ${formatMs(last?.p50Ms ?? 0)} ms p99 ${formatMs(last?.p99Ms ?? 0)} ms (last s)`
  );
}

const CSV_COLUMNS = [
  "second",
  "interval_seconds",
  "sent",
  "requests",
  "failures",
  "requests_per_second",
  "p50_ms",
  "p99_ms",
  "service_p99_ms",
  "users",
  "in_flight",
  "target_rate_per_second",
  "dropped",
] as const;

/** The per-second timeline as CSV (Locust's `_stats_history.csv`, one row a second). */
export function timelineCsv(timeline: ReadonlyArray<TimelinePoint>): string {
  const rows = timeline.map((p) =>
    [
      p.second,
      p.intervalSeconds,
      p.sent,
      p.requests,
      p.failures,
      p.requestsPerSecond,
      p.p50Ms,
      p.p99Ms,
      p.serviceP99Ms,
      p.users,
      p.inFlight,
      p.targetRatePerSecond ?? "",
      p.dropped,
    ].join(","),
  );
  return `${[CSV_COLUMNS.join(","), ...rows].join("\n")}\n`;
}
