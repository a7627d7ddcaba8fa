import { build, type Histogram } from "hdr-histogram-js";

/** Latency figures of a set of responses, in milliseconds. */
export interface LatencySummaryMs {
  min: number;
  avg: number;
  p50: number;
  p66: number;
  p75: number;
  p80: number;
  p90: number;
  p95: number;
  p98: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

/** The percentiles Locust prints, in its order, with the key each has in LatencySummaryMs. */
export const LOCUST_PERCENTILES = [
  ["50%", "p50", 50],
  ["66%", "p66", 66],
  ["75%", "p75", 75],
  ["80%", "p80", 80],
  ["90%", "p90", 90],
  ["95%", "p95", 95],
  ["98%", "p98", 98],
  ["99%", "p99", 99],
  ["99.9%", "p999", 99.9],
  ["99.99%", "p9999", 99.99],
  ["100%", "max", 100],
] as const satisfies ReadonlyArray<readonly [string, keyof LatencySummaryMs, number]>;

/** Most synthetic samples one corrected recording adds one by one (see recordCorrected). */
const MAX_SYNTHETIC_SAMPLES = 1000;

/** Longest latency the histogram resolves exactly: an hour, in microseconds (it resizes beyond). */
const HIGHEST_TRACKABLE_US = 3_600_000_000;

/**
 * Response times in an HDR histogram (3 significant digits, microsecond
 * resolution), so every percentile comes from all the samples — never an
 * average of averages. Count, sum, min and max are kept exactly beside it,
 * which is what Locust's avg/min/max columns are.
 */
export class LatencyRecorder {
  readonly #histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  #count = 0;
  #sumMs = 0;
  #minMs = Number.POSITIVE_INFINITY;
  #maxMs = 0;

  get count(): number {
    return this.#count;
  }

  record(latencyMs: number): void {
    this.#recordCount(latencyMs, 1);
  }

  /**
   * Records a closed-loop sample and the samples it kept from being taken (HdrHistogram's
   * `recordValueWithExpectedInterval`): a user who meant to send one request every
   * `expectedIntervalMs` but waited `latencyMs` for an answer would have sent
   * ⌊latencyMs ÷ interval⌋ − 1 more, which would have waited latencyMs − interval,
   * latencyMs − 2·interval, … down to the interval. Those are recorded too. Past
   * MAX_SYNTHETIC_SAMPLES they are recorded in that many even groups, each at its mean,
   * so a minute-long stall at a 1 ms interval costs bounded work (the percentiles move by
   * under a group's width, which stays within the histogram's 3 significant digits' spirit).
   */
  recordCorrected(latencyMs: number, expectedIntervalMs: number): void {
    this.#recordCount(latencyMs, 1);
    const interval = Math.max(1, expectedIntervalMs);
    const missing = Math.floor(latencyMs / interval) - 1;
    if (missing <= 0) return;
    if (missing <= MAX_SYNTHETIC_SAMPLES) {
      for (let k = 1; k <= missing; k++) this.#recordCount(latencyMs - k * interval, 1);
      return;
    }
    const perGroup = missing / MAX_SYNTHETIC_SAMPLES;
    let from = 1;
    for (let g = 1; g <= MAX_SYNTHETIC_SAMPLES; g++) {
      const to = Math.round(g * perGroup);
      const count = to - from + 1;
      if (count > 0) this.#recordCount(latencyMs - ((from + to) / 2) * interval, count);
      from = to + 1;
    }
  }

  #recordCount(latencyMs: number, count: number): void {
    const ms = Math.max(0, latencyMs);
    this.#histogram.recordValueWithCount(Math.max(1, Math.round(ms * 1000)), count);
    this.#count += count;
    this.#sumMs += ms * count;
    if (ms < this.#minMs) this.#minMs = ms;
    if (ms > this.#maxMs) this.#maxMs = ms;
  }

  /** The latency at `percentile` (0..100), in ms; 0 with no samples. */
  percentileMs(percentile: number): number {
    if (this.#count === 0) return 0;
    if (percentile >= 100) return this.#maxMs;
    return Math.min(this.#maxMs, this.#histogram.getValueAtPercentile(percentile) / 1000);
  }

  summary(): LatencySummaryMs {
    const empty = this.#count === 0;
    const out = {
      min: empty ? 0 : this.#minMs,
      avg: empty ? 0 : this.#sumMs / this.#count,
      max: this.#maxMs,
    } as LatencySummaryMs;
    for (const [, key, percentile] of LOCUST_PERCENTILES) out[key] = this.percentileMs(percentile);
    return out;
  }

  reset(): void {
    this.#histogram.reset();
    this.#count = 0;
    this.#sumMs = 0;
    this.#minMs = Number.POSITIVE_INFINITY;
    this.#maxMs = 0;
  }
}
