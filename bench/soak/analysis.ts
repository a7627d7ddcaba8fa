/**
 * The soak's arithmetic, apart from the run so it can be tested: Prometheus text → samples,
 * least-squares trend after the warm-up, and the growth verdict.
 */

/** One reading of one process: resident memory, V8 heap in use, event-loop delay since the last reading. */
export interface ProcessSample {
  atSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** p99 and max of the event-loop delay (perf_hooks monitorEventLoopDelay, via prom-client) since the last scrape. */
  loopLagP99Ms: number;
  loopLagMaxMs: number;
}

/** The value of a metric without labels (or with any), from a Prometheus text exposition. */
export function metricValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function sampleFromMetrics(text: string, atSeconds: number): ProcessSample | undefined {
  const rss = metricValue(text, "process_resident_memory_bytes");
  const heap = metricValue(text, "nodejs_heap_size_used_bytes");
  const p99 = metricValue(text, "nodejs_eventloop_lag_p99_seconds");
  const max = metricValue(text, "nodejs_eventloop_lag_max_seconds");
  if (rss === undefined || heap === undefined || p99 === undefined || max === undefined) return undefined;
  return { atSeconds, rssBytes: rss, heapUsedBytes: heap, loopLagP99Ms: p99 * 1000, loopLagMaxMs: max * 1000 };
}

/** Ordinary least squares: y = intercept + slope × x. */
export function linearFit(points: ReadonlyArray<readonly [number, number]>): { slope: number; intercept: number } {
  const n = points.length;
  if (n < 2) return { slope: 0, intercept: points[0]?.[1] ?? 0 };
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function quantile(values: ReadonlyArray<number>, q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export interface TrendVerdict {
  samples: number;
  /** Samples after the warm-up, which the trend is fitted on. */
  measured: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMeanMb: number;
  /** Least-squares slope of RSS after the warm-up. */
  rssSlopeMbPerMinute: number;
  /** That slope over the measured span, as a share of the mean RSS. */
  rssGrowthPercent: number;
  heapSlopeMbPerMinute: number;
  heapGrowthPercent: number;
  /** Median and worst of the per-interval event-loop p99s; slope of the p99s. */
  loopLagP99MedianMs: number;
  loopLagP99WorstMs: number;
  loopLagMaxMs: number;
  loopLagSlopeMsPerMinute: number;
  /** "steady": neither RSS nor heap grows by `growthLimitPercent` or more over the measured span. */
  verdict: "steady" | "grows" | "too short";
}

/**
 * Fits RSS, heap and event-loop lag against time after `warmupSeconds` (JIT, caches and pools fill
 * then). A leak shows as a slope that, over the measured span, adds `growthLimitPercent` of the mean
 * or more; GC's sawtooth averages out over dozens of samples.
 */
export function trendOf(
  samples: ReadonlyArray<ProcessSample>,
  {
    warmupSeconds,
    growthLimitPercent = 10,
    minSamples = 12,
  }: { warmupSeconds: number; growthLimitPercent?: number; minSamples?: number },
): TrendVerdict {
  const measured = samples.filter((s) => s.atSeconds >= warmupSeconds);
  const mb = (b: number) => b / 1024 / 1024;
  const slopeOf = (pick: (s: ProcessSample) => number) =>
    linearFit(measured.map((s) => [s.atSeconds / 60, pick(s)] as const)).slope;
  const spanMinutes =
    measured.length > 1 ? ((measured.at(-1)?.atSeconds ?? 0) - (measured[0]?.atSeconds ?? 0)) / 60 : 0;
  const mean = (pick: (s: ProcessSample) => number) =>
    measured.length === 0 ? 0 : measured.reduce((sum, s) => sum + pick(s), 0) / measured.length;
  const rssSlope = slopeOf((s) => mb(s.rssBytes));
  const heapSlope = slopeOf((s) => mb(s.heapUsedBytes));
  const rssMean = mean((s) => mb(s.rssBytes));
  const heapMean = mean((s) => mb(s.heapUsedBytes));
  const rssGrowth = rssMean === 0 ? 0 : ((rssSlope * spanMinutes) / rssMean) * 100;
  const heapGrowth = heapMean === 0 ? 0 : ((heapSlope * spanMinutes) / heapMean) * 100;
  const p99s = measured.map((s) => s.loopLagP99Ms);
  const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    samples: samples.length,
    measured: measured.length,
    rssStartMb: round(mb(measured[0]?.rssBytes ?? 0), 1),
    rssEndMb: round(mb(measured.at(-1)?.rssBytes ?? 0), 1),
    rssMeanMb: round(rssMean, 1),
    rssSlopeMbPerMinute: round(rssSlope, 3),
    rssGrowthPercent: round(rssGrowth, 1),
    heapSlopeMbPerMinute: round(heapSlope, 3),
    heapGrowthPercent: round(heapGrowth, 1),
    loopLagP99MedianMs: round(quantile(p99s, 0.5)),
    loopLagP99WorstMs: round(Math.max(0, ...p99s)),
    loopLagMaxMs: round(Math.max(0, ...measured.map((s) => s.loopLagMaxMs))),
    loopLagSlopeMsPerMinute: round(
      slopeOf((s) => s.loopLagP99Ms),
      3,
    ),
    verdict:
      measured.length < minSamples
        ? "too short"
        : rssGrowth >= growthLimitPercent || heapGrowth >= growthLimitPercent
          ? "grows"
          : "steady",
  };
}
