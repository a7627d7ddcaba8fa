import type { RateBurstSpec, ThresholdMetric, UsersBurstSpec } from "@surge/loadgen";
import { presetBody } from "@surge/loadgen/presets";
import type { BurstBounds } from "./ops";
import { PRESETS, STUDY_WAIT_MS } from "./study";

type Fields<S> = Omit<S, "model" | "mode" | "timeoutMs" | "thresholds" | "stages" | "arrival">;

/** How an arrival-rate burst's rate moves: held, or one of the loadgen's staged shapes up to the rate. */
export const RATE_SHAPES = ["constant", "ramp", "step", "spike"] as const;
export type RateShape = (typeof RATE_SHAPES)[number];

/** The SLO gates, as the form shows them: label, unit and the API's metric. */
export const GATE_FIELDS: ReadonlyArray<{ metric: ThresholdMetric; label: string; unit: string }> = [
  { metric: "p99Ms", label: "p99 latency", unit: "ms" },
  { metric: "failureRatio", label: "Failure ratio", unit: "0–1" },
  { metric: "oldestAgeSeconds", label: "Oldest order age", unit: "s" },
  { metric: "drainSeconds", label: "Drain time", unit: "s" },
];

/** The burst form's state: both models' fields, so switching model keeps what was typed. */
export type BurstDraft = Pick<UsersBurstSpec | RateBurstSpec, "model" | "mode"> &
  Fields<UsersBurstSpec> &
  Fields<RateBurstSpec> & {
    /** Arrival-rate bursts: the rate's shape (`ratePerSecond` is its peak) and the arrival process. */
    shape: RateShape;
    arrival: "constant" | "poisson";
    /** Each gate's max; NaN (an empty box) leaves the gate out. */
    gates: Record<ThresholdMetric, number>;
  };

export const DEFAULT_DRAFT: BurstDraft = {
  model: "users",
  mode: "async",
  users: PRESETS.flashSale.users,
  spawnRate: PRESETS.flashSale.spawnRate,
  durationSeconds: PRESETS.flashSale.durationSeconds,
  waitMinMs: STUDY_WAIT_MS.min,
  waitMaxMs: STUDY_WAIT_MS.max,
  ratePerSecond: 48,
  maxInFlight: 2000,
  shape: "constant",
  arrival: "constant",
  gates: { p99Ms: Number.NaN, failureRatio: Number.NaN, oldestAgeSeconds: Number.NaN, drainSeconds: Number.NaN },
};

/** The request body for a draft: only the fields of its model, and the gates that were filled in. */
export function burstBody(d: BurstDraft): Record<string, unknown> {
  const thresholds = GATE_FIELDS.filter((g) => !Number.isNaN(d.gates[g.metric])).map((g) => ({
    metric: g.metric,
    max: d.gates[g.metric],
  }));
  const gates = thresholds.length > 0 ? { thresholds } : {};
  if (d.model === "users") {
    return {
      mode: d.mode,
      users: d.users,
      spawnRate: d.spawnRate,
      durationSeconds: d.durationSeconds,
      waitMinMs: d.waitMinMs,
      waitMaxMs: d.waitMaxMs,
      ...gates,
    };
  }
  const load =
    d.shape === "constant"
      ? { ratePerSecond: d.ratePerSecond, durationSeconds: d.durationSeconds }
      : presetBody(d.shape, { mode: d.mode, peakRatePerSecond: d.ratePerSecond, durationSeconds: d.durationSeconds });
  return { mode: d.mode, ...load, maxInFlight: d.maxInFlight, arrival: d.arrival, ...gates };
}

/** A problem by field: the form's own keys, `gates.<metric>`, or any field the API named (`stages.0.ratePerSecond`). */
export type DraftProblems = Record<string, string>;

/** Field problems against the API's bounds, checked before sending (the API checks again). */
export function draftProblems(d: BurstDraft, b: BurstBounds): DraftProblems {
  const p: DraftProblems = {};
  const ok = (v: number) => Number.isFinite(v);
  if (!ok(d.durationSeconds) || d.durationSeconds < 0.1 || d.durationSeconds > b.maxDurationSeconds)
    p.durationSeconds = `0.1–${b.maxDurationSeconds} s`;
  if (d.model === "users") {
    if (!Number.isInteger(d.users) || d.users < 1 || d.users > b.maxUsers) p.users = `a whole number, 1–${b.maxUsers}`;
    if (!ok(d.spawnRate) || d.spawnRate <= 0 || d.spawnRate > b.maxUsers)
      p.spawnRate = `above 0, at most ${b.maxUsers}/s`;
    if (!ok(d.waitMinMs) || d.waitMinMs < 0 || d.waitMinMs > b.maxWaitMs) p.waitMinMs = `0–${b.maxWaitMs} ms`;
    if (!ok(d.waitMaxMs) || d.waitMaxMs < d.waitMinMs || d.waitMaxMs > b.maxWaitMs)
      p.waitMaxMs = `at least the minimum, at most ${b.maxWaitMs} ms`;
  } else {
    if (!ok(d.ratePerSecond) || d.ratePerSecond <= 0 || d.ratePerSecond > b.maxRatePerSecond)
      p.ratePerSecond = `above 0, at most ${b.maxRatePerSecond}/s`;
    if (!Number.isInteger(d.maxInFlight) || d.maxInFlight < 1 || d.maxInFlight > b.maxInFlight)
      p.maxInFlight = `a whole number, 1–${b.maxInFlight}`;
  }
  for (const g of GATE_FIELDS) {
    const v = d.gates[g.metric];
    if (Number.isNaN(v)) continue;
    if (!ok(v) || v < 0) p[`gates.${g.metric}`] = "at least 0, or empty for no gate";
    else if (g.metric === "failureRatio" && v > 1) p[`gates.${g.metric}`] = "a ratio: 0–1";
  }
  return p;
}

/** Human names of the fields, for an error that lists every bad one. */
const FIELD_LABELS: Record<string, string> = {
  users: "Users",
  spawnRate: "Spawn rate",
  durationSeconds: "Duration",
  waitMinMs: "Think time min",
  waitMaxMs: "Think time max",
  ratePerSecond: "Arrival rate",
  maxInFlight: "Max in flight",
  mode: "Endpoint",
  arrival: "Arrivals",
  stages: "Shape",
  ...Object.fromEntries(GATE_FIELDS.map((g) => [`gates.${g.metric}`, `Gate: ${g.label}`])),
};

/**
 * The API names fields by their body path (`thresholds.1.max`); the form's gates are keyed by
 * metric. Maps the one onto the other for a given body, so an API problem lands on its box.
 */
export function formField(apiField: string, body: Record<string, unknown>): string {
  const m = /^thresholds\.(\d+)(?:\.\w+)?$/.exec(apiField);
  if (m) {
    const gate = (body.thresholds as Array<{ metric: string }> | undefined)?.[Number(m[1])];
    if (gate) return `gates.${gate.metric}`;
  }
  return apiField;
}

/** Every problem as "Label: problem", in the form's order, for the error summary. */
export function problemList(problems: DraftProblems): string[] {
  const order = Object.keys(FIELD_LABELS);
  return Object.entries(problems)
    .sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
    .map(([field, message]) => `${FIELD_LABELS[field] ?? field}: ${message}`);
}
