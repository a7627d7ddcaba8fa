/**
 * The shapes both faces of the Lambda path report in: the local runtime
 * (infra) computes them from its REPORT lines, the API reads them from it or
 * from CloudWatch. One definition, on both sides of the HTTP boundary.
 */

/** Distribution of a set of durations, in ms; all zero when there are none. */
export interface DurationStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One time bin of invocations: how many, and how many started cold. */
export interface InvocationBin {
  startMs: number;
  invocations: number;
  coldStarts: number;
  /** coldStarts ÷ invocations, 0..1 (0 for an empty bin). */
  coldStartShare: number;
}

/** What the function did in a window: the local answer to the Logs Insights queries over REPORT lines. */
export interface LambdaWindowSummary {
  sinceMs: number;
  untilMs: number;
  invocations: number;
  coldStarts: number;
  warmStarts: number;
  coldStartShare: number;
  errors: number;
  throttles: number;
  initDurationMs: DurationStats;
  durationMs: DurationStats;
  billedDurationMs: number;
  /** Σ billed duration × memory size: what Lambda's compute charge is computed on. */
  billedGbSeconds: number;
  maxMemoryUsedMb: number;
  binSeconds: number;
  bins: InvocationBin[];
}
