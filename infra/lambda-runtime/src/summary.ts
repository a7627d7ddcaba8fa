import type { DurationStats, InvocationBin, LambdaWindowSummary } from "@surge/core";
import type { LambdaReport } from "./report.js";

export type { DurationStats, InvocationBin, LambdaWindowSummary };

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted: ReadonlyArray<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

export function durationStats(values: ReadonlyArray<number>): DurationStats {
  if (values.length === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    count: sorted.length,
    min: round(sorted[0] ?? 0),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

/**
 * Summarises the reports that ended in [sinceMs, untilMs), with cold-start
 * share per `binSeconds` bin (aligned to the epoch, like Logs Insights' bin()).
 */
export function summarize(
  reports: ReadonlyArray<LambdaReport>,
  throttleTimesMs: ReadonlyArray<number>,
  window: { sinceMs: number; untilMs: number; binSeconds?: number },
): LambdaWindowSummary {
  const binMs = Math.max(1, Math.round(window.binSeconds ?? 300)) * 1000;
  const inWindow = reports.filter((r) => r.endedAtMs >= window.sinceMs && r.endedAtMs < window.untilMs);
  const cold = inWindow.filter((r) => r.start === "cold");
  const bins = new Map<number, InvocationBin>();
  for (const r of inWindow) {
    const startMs = Math.floor(r.endedAtMs / binMs) * binMs;
    const bin = bins.get(startMs) ?? { startMs, invocations: 0, coldStarts: 0, coldStartShare: 0 };
    bin.invocations++;
    if (r.start === "cold") bin.coldStarts++;
    bins.set(startMs, bin);
  }
  for (const bin of bins.values()) bin.coldStartShare = bin.coldStarts / bin.invocations;
  let billedGbSeconds = 0;
  let billedDurationMs = 0;
  for (const r of inWindow) {
    billedDurationMs += r.billedDurationMs;
    billedGbSeconds += (r.billedDurationMs / 1000) * (r.memorySizeMb / 1024);
  }
  return {
    sinceMs: window.sinceMs,
    untilMs: window.untilMs,
    invocations: inWindow.length,
    coldStarts: cold.length,
    warmStarts: inWindow.length - cold.length,
    coldStartShare: inWindow.length > 0 ? cold.length / inWindow.length : 0,
    errors: inWindow.filter((r) => r.outcome === "error").length,
    throttles: throttleTimesMs.filter((t) => t >= window.sinceMs && t < window.untilMs).length,
    initDurationMs: durationStats(cold.flatMap((r) => (r.initDurationMs === undefined ? [] : [r.initDurationMs]))),
    durationMs: durationStats(inWindow.map((r) => r.durationMs)),
    billedDurationMs,
    billedGbSeconds,
    maxMemoryUsedMb: inWindow.reduce((m, r) => Math.max(m, r.maxMemoryUsedMb), 0),
    binSeconds: binMs / 1000,
    bins: [...bins.values()].sort((a, b) => a.startMs - b.startMs),
  };
}
