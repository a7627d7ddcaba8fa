/**
 * The study's "COMPARISON: SYNC vs ASYNC" table, filled from two measured
 * bursts. Pure, so the arithmetic (and which way "better" points) is tested.
 */
import type { BurstSummary } from "./ops";
import { STUDY_COMPARISON, STUDY_COMPARISON_SOURCES } from "./study";

interface BurstFigures {
  totalRequests: number;
  successRatio: number;
  throughputPerSecond: number;
  avgResponseMs: number;
  maxResponseMs: number;
  p50Ms: number;
  p99Ms: number;
  /**
   * Share of attempted orders that did not get a successful answer: failures,
   * requests still unanswered when the burst ended (customers who gave up) and
   * arrivals dropped at the in-flight cap — the study's "orders lost".
   */
  lostRatio: number;
}

export function figures(burst: BurstSummary): BurstFigures {
  const attempted = burst.requests + burst.abandoned + burst.dropped;
  const notCompleted = burst.failures + burst.abandoned + burst.dropped;
  return {
    totalRequests: burst.requests,
    successRatio: burst.requests > 0 ? (burst.requests - burst.failures) / burst.requests : Number.NaN,
    throughputPerSecond: burst.throughputPerSecond,
    avgResponseMs: burst.latencyMs.avg,
    maxResponseMs: burst.latencyMs.max,
    p50Ms: burst.latencyMs.p50,
    p99Ms: burst.latencyMs.p99,
    lostRatio: attempted > 0 ? notCompleted / attempted : Number.NaN,
  };
}

type Direction = "higher" | "lower";

export interface ComparisonRow {
  key: keyof BurstFigures;
  label: string;
  better: Direction;
  kind: "count" | "ratio" | "rate" | "ms";
  sync: number;
  async: number;
  /** How many times better async is (≥ 1 when better), or NaN when not comparable. */
  improvement: number;
  studySync: number | undefined;
  studyAsync: number | undefined;
  /** Where the study's figures come from (`flash-sale-report.txt:LINE`). */
  studyLines: string;
  /** Set when the study's figure is its own estimate rather than a measurement: what it estimated from. */
  studyEstimate?: string;
}

const ROWS: Array<Pick<ComparisonRow, "key" | "label" | "better" | "kind">> = [
  { key: "totalRequests", label: "Total requests", better: "higher", kind: "count" },
  { key: "successRatio", label: "Success rate", better: "higher", kind: "ratio" },
  { key: "throughputPerSecond", label: "Throughput", better: "higher", kind: "rate" },
  { key: "avgResponseMs", label: "Avg response time", better: "lower", kind: "ms" },
  { key: "p50Ms", label: "Median response time", better: "lower", kind: "ms" },
  { key: "p99Ms", label: "99th percentile", better: "lower", kind: "ms" },
  { key: "maxResponseMs", label: "Max response time", better: "lower", kind: "ms" },
  { key: "lostRatio", label: "Orders lost", better: "lower", kind: "ratio" },
];

/** The ratio the study prints ("30.4x"): async over sync when higher is better, sync over async when lower is. */
export function improvement(sync: number, async: number, better: Direction): number {
  if (!Number.isFinite(sync) || !Number.isFinite(async)) return Number.NaN;
  if (better === "higher") return sync > 0 ? async / sync : Number.NaN;
  return async > 0 ? sync / async : Number.NaN;
}

export function compare(sync: BurstSummary, async: BurstSummary): ComparisonRow[] {
  const s = figures(sync);
  const a = figures(async);
  const study = STUDY_COMPARISON as unknown as Record<"sync" | "async", Partial<Record<keyof BurstFigures, number>>>;
  return ROWS.map((row) => {
    const source = STUDY_COMPARISON_SOURCES[row.key];
    return {
      ...row,
      sync: s[row.key],
      async: a[row.key],
      improvement: row.kind === "ratio" ? Number.NaN : improvement(s[row.key], a[row.key], row.better),
      studySync: study.sync[row.key],
      studyAsync: study.async[row.key],
      studyLines: source.lines,
      ...(source.estimate !== undefined && { studyEstimate: source.estimate }),
    };
  });
}

/** Two bursts are "the same burst" when their load (model, users or rate, spawn rate, duration) matches. */
function sameLoad(a: BurstSummary, b: BurstSummary): boolean {
  const x = a.spec;
  const y = b.spec;
  if (x.model !== y.model || x.durationSeconds !== y.durationSeconds) return false;
  if (x.model === "users" && y.model === "users") return x.users === y.users && x.spawnRate === y.spawnRate;
  if (x.model === "arrival-rate" && y.model === "arrival-rate") return x.ratePerSecond === y.ratePerSecond;
  return false;
}

/**
 * The pair to compare by default: the newest finished async burst and the
 * newest finished sync burst with the same load (or, failing that, the newest sync).
 */
export function defaultPair(bursts: BurstSummary[]): { sync?: BurstSummary; async?: BurstSummary } {
  const finished = bursts.filter((b) => b.status !== "running" && b.requests > 0);
  const async = finished.find((b) => b.spec.mode === "async");
  const syncs = finished.filter((b) => b.spec.mode === "sync");
  const sync = (async && syncs.find((b) => sameLoad(b, async))) ?? syncs[0];
  return { ...(sync && { sync }), ...(async && { async }) };
}
