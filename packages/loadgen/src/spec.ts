import { ValidationError, validationError } from "@surge/core";
import { z } from "zod";

/**
 * The bounds every burst lives within, whoever starts it (console, CLI, study).
 * A burst is a load test against this deployment's own API: the bounds keep it
 * from becoming a denial of service on the deployment or a cannon pointed elsewhere.
 */
export const BURST_BOUNDS = {
  /** Most simulated Locust users at once. */
  maxUsers: 2000,
  /** Highest open-loop arrival rate, orders per second. */
  maxRatePerSecond: 5000,
  /** Longest burst, in seconds (10 minutes). */
  maxDurationSeconds: 600,
  /** Most requests one arrival-rate burst keeps in flight (k6's maxVUs). */
  maxInFlight: 2000,
  /** Longest a single request may take before it counts as a failure, in ms. */
  maxTimeoutMs: 300_000,
  /** Longest think time, in ms. */
  maxWaitMs: 60_000,
  /** Most stages of one arrival-rate burst. */
  maxStages: 50,
  /**
   * Longest the queue is watched after the load ends, for the oldestAgeSeconds and drainSeconds
   * thresholds, in seconds (10 minutes): a queue that has not drained by then fails its gate.
   */
  maxDrainWatchSeconds: 600,
} as const;

export const ARRIVAL_PROCESSES = ["constant", "poisson"] as const;
/** How arrivals are spaced: evenly (k6's arrival-rate executors) or as a Poisson process of the same rate. */
export type ArrivalProcess = (typeof ARRIVAL_PROCESSES)[number];

/** One stage of a ramping arrival rate (k6's ramping-arrival-rate): the rate moves linearly to `ratePerSecond`. */
export interface BurstStage {
  /** Length of the ramp, in seconds; 0 is a step (the rate jumps). */
  durationSeconds: number;
  /** The rate reached at the end of the stage, orders per second (0 allowed: a ramp down). */
  ratePerSecond: number;
}

export const THRESHOLD_METRICS = ["p99Ms", "failureRatio", "oldestAgeSeconds", "drainSeconds"] as const;
/**
 * What an SLO gate checks, once the burst has finished (docs/bursts-and-the-study.md, "SLO gates"):
 * - `p99Ms`: the 99th percentile of latency as shoppers feel it (from the scheduled arrival; the
 *   users model's corrected figure);
 * - `failureRatio`: (failures + dropped arrivals) ÷ (answers + dropped arrivals);
 * - `oldestAgeSeconds`: the oldest waiting order's age, the most seen during the burst and its drain;
 * - `drainSeconds`: from the end of the load until no order waits.
 */
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

export interface BurstThreshold {
  metric: ThresholdMetric;
  /** The gate passes while the value is at most this (ms, a ratio 0..1, or seconds, by metric). */
  max: number;
}

/** Metrics the burst can only measure by watching the order queue. */
export const QUEUE_THRESHOLD_METRICS: ReadonlySet<ThresholdMetric> = new Set(["oldestAgeSeconds", "drainSeconds"]);

export const BURST_MODES = ["sync", "async"] as const;
export type BurstMode = (typeof BURST_MODES)[number];

/** Defaults of the optional fields: the study's locustfile (`between(0.1, 0.5)`), a browser-like timeout. */
const BURST_DEFAULTS = {
  waitMinMs: 100,
  waitMaxMs: 500,
  timeoutMs: 60_000,
  maxInFlight: BURST_BOUNDS.maxInFlight,
} as const;

/** Locust's model: `users` closed-loop users, each placing an order then thinking U(waitMinMs, waitMaxMs). */
export interface UsersBurstSpec {
  model: "users";
  mode: BurstMode;
  users: number;
  /** Users started per second until `users` run (Locust's `-r`). */
  spawnRate: number;
  durationSeconds: number;
  waitMinMs: number;
  waitMaxMs: number;
  timeoutMs: number;
  thresholds?: BurstThreshold[];
}

/**
 * k6's arrival-rate model: orders start at `ratePerSecond` whatever the answers take (open loop).
 * With `stages`, `ratePerSecond` is the starting rate (k6's startRate) and the rate then follows
 * the stages (k6's ramping-arrival-rate); `durationSeconds` is the stages' total.
 */
export interface RateBurstSpec {
  model: "arrival-rate";
  mode: BurstMode;
  ratePerSecond: number;
  durationSeconds: number;
  /** Default "constant". */
  arrival?: ArrivalProcess;
  stages?: BurstStage[];
  thresholds?: BurstThreshold[];
  /** Arrivals beyond this many requests in flight are dropped and counted (k6's dropped_iterations). */
  maxInFlight: number;
  timeoutMs: number;
}

export type BurstSpec = UsersBurstSpec | RateBurstSpec;

/** What may change while a burst runs. */
export interface BurstChange {
  users?: number;
  spawnRate?: number;
  ratePerSecond?: number;
}

const bound = (field: string, max: number, unit: string) => `${field} must be at most ${max} ${unit} (the burst bound)`;

const usersField = z
  .int(`users must be an integer`)
  .min(1, "users must be at least 1")
  .max(BURST_BOUNDS.maxUsers, bound("users", BURST_BOUNDS.maxUsers, "users"));
const spawnRateField = z
  .number()
  .positive("spawnRate must be above 0 users/s")
  .max(BURST_BOUNDS.maxUsers, bound("spawnRate", BURST_BOUNDS.maxUsers, "users/s"));
const rateField = z
  .number()
  .positive("ratePerSecond must be above 0")
  .max(BURST_BOUNDS.maxRatePerSecond, bound("ratePerSecond", BURST_BOUNDS.maxRatePerSecond, "orders/s"));

const commonShape = {
  mode: z.enum(BURST_MODES, "mode must be sync or async"),
  durationSeconds: z
    .number()
    .min(0.1, "durationSeconds must be at least 0.1")
    .max(BURST_BOUNDS.maxDurationSeconds, bound("durationSeconds", BURST_BOUNDS.maxDurationSeconds, "seconds")),
  timeoutMs: z
    .int()
    .min(100, "timeoutMs must be at least 100")
    .max(BURST_BOUNDS.maxTimeoutMs, bound("timeoutMs", BURST_BOUNDS.maxTimeoutMs, "ms"))
    .default(BURST_DEFAULTS.timeoutMs),
  /** Checked against the deployment's own base URL by the caller; absent means "this deployment". */
  target: z.string().min(1).max(2048).optional(),
};

const thresholdsField = z
  .array(
    z.strictObject({
      metric: z.enum(THRESHOLD_METRICS, `metric must be one of ${THRESHOLD_METRICS.join(", ")}`),
      max: z.number("max must be a number").min(0, "max must be at least 0"),
    }),
    "thresholds must be a list of {metric, max}",
  )
  .max(THRESHOLD_METRICS.length, `at most ${THRESHOLD_METRICS.length} thresholds, one per metric`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, t] of list.entries()) {
      if (seen.has(t.metric)) {
        ctx.addIssue({ code: "custom", path: [i, "metric"], message: `${t.metric} is given twice` });
      }
      seen.add(t.metric);
      if (t.metric === "failureRatio" && t.max > 1) {
        ctx.addIssue({ code: "custom", path: [i, "max"], message: "a failureRatio max must be at most 1" });
      }
    }
  })
  .optional();

const stagesField = z
  .array(
    z.strictObject({
      durationSeconds: z
        .number("durationSeconds must be a number")
        .min(0, "a stage's durationSeconds must be at least 0")
        .max(BURST_BOUNDS.maxDurationSeconds, bound("durationSeconds", BURST_BOUNDS.maxDurationSeconds, "seconds")),
      ratePerSecond: z
        .number("ratePerSecond must be a number")
        .min(0, "a stage's ratePerSecond must be at least 0")
        .max(BURST_BOUNDS.maxRatePerSecond, bound("ratePerSecond", BURST_BOUNDS.maxRatePerSecond, "orders/s")),
    }),
    "stages must be a list of {durationSeconds, ratePerSecond}",
  )
  .min(1, "stages must have at least one stage")
  .max(BURST_BOUNDS.maxStages, `stages must have at most ${BURST_BOUNDS.maxStages} stages (the burst bound)`);

const waitField = (name: string, fallback: number) =>
  z
    .number()
    .min(0, `${name} must be at least 0`)
    .max(BURST_BOUNDS.maxWaitMs, bound(name, BURST_BOUNDS.maxWaitMs, "ms"))
    .default(fallback);

const usersSchema = z
  .strictObject({
    ...commonShape,
    users: usersField,
    spawnRate: spawnRateField,
    waitMinMs: waitField("waitMinMs", BURST_DEFAULTS.waitMinMs),
    waitMaxMs: waitField("waitMaxMs", BURST_DEFAULTS.waitMaxMs),
    thresholds: thresholdsField,
  })
  .refine((s) => s.waitMaxMs >= s.waitMinMs, {
    path: ["waitMaxMs"],
    message: "waitMaxMs must be at least waitMinMs",
  });

const maxInFlightField = z
  .int()
  .min(1, "maxInFlight must be at least 1")
  .max(BURST_BOUNDS.maxInFlight, bound("maxInFlight", BURST_BOUNDS.maxInFlight, "requests"))
  .default(BURST_DEFAULTS.maxInFlight);
const arrivalField = z.enum(ARRIVAL_PROCESSES, "arrival must be constant or poisson").default("constant");

const rateSchema = z.strictObject({
  ...commonShape,
  ratePerSecond: rateField,
  maxInFlight: maxInFlightField,
  arrival: arrivalField,
  thresholds: thresholdsField,
});

/** With stages the duration is their total and the starting rate may be 0 (a ramp up from nothing). */
const stagedSchema = z
  .strictObject({
    ...commonShape,
    durationSeconds: commonShape.durationSeconds.optional(),
    ratePerSecond: z
      .number("ratePerSecond must be a number")
      .min(0, "ratePerSecond (the starting rate) must be at least 0")
      .max(BURST_BOUNDS.maxRatePerSecond, bound("ratePerSecond", BURST_BOUNDS.maxRatePerSecond, "orders/s"))
      .default(0),
    stages: stagesField,
    maxInFlight: maxInFlightField,
    arrival: arrivalField,
    thresholds: thresholdsField,
  })
  .superRefine((s, ctx) => {
    const total = stagesSeconds(s.stages);
    if (total > BURST_BOUNDS.maxDurationSeconds) {
      ctx.addIssue({
        code: "custom",
        path: ["stages"],
        message: `the stages last ${round3(total)} s: at most ${BURST_BOUNDS.maxDurationSeconds} seconds in all (the burst bound)`,
      });
    } else if (total < 0.1) {
      ctx.addIssue({ code: "custom", path: ["stages"], message: "the stages must last at least 0.1 s in all" });
    }
    if (s.durationSeconds !== undefined && Math.abs(s.durationSeconds - total) > 1e-6) {
      ctx.addIssue({
        code: "custom",
        path: ["durationSeconds"],
        message: `durationSeconds must equal the stages' total (${round3(total)} s), or be left out`,
      });
    }
    if (s.ratePerSecond === 0 && s.stages.every((st) => st.ratePerSecond === 0)) {
      ctx.addIssue({ code: "custom", path: ["stages"], message: "every rate is 0: no order would ever start" });
    }
  });

const stagesSeconds = (stages: ReadonlyArray<BurstStage>) => stages.reduce((sum, st) => sum + st.durationSeconds, 0);
const round3 = (n: number) => Math.round(n * 1000) / 1000;

const changeSchema = z
  .strictObject({
    users: usersField.optional(),
    spawnRate: spawnRateField.optional(),
    ratePerSecond: rateField.optional(),
  })
  .refine((c) => c.users !== undefined || c.spawnRate !== undefined || c.ratePerSecond !== undefined, {
    path: ["body"],
    message: "give users, spawnRate or ratePerSecond",
  });

/**
 * Parses an untrusted burst request: `{mode, users, spawnRate, durationSeconds, waitMinMs?, waitMaxMs?}`
 * (Locust's user model) or `{mode, ratePerSecond, durationSeconds, maxInFlight?}` (k6's arrival rate).
 * Anything over a bound is a ValidationError naming the field and the bound.
 */
export function parseBurstSpec(body: unknown): BurstSpec & { target?: string | undefined } {
  const input = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const hasUsers = input.users !== undefined || input.spawnRate !== undefined;
  const hasRate = input.ratePerSecond !== undefined || input.stages !== undefined || input.arrival !== undefined;
  if (hasUsers === hasRate) {
    throw new ValidationError("a burst has either users and spawnRate (user model) or ratePerSecond (arrival rate)", [
      { field: hasUsers ? "ratePerSecond" : "users", message: "give users + spawnRate, or ratePerSecond, not both" },
    ]);
  }
  if (hasUsers) {
    const parsed = usersSchema.safeParse(input);
    if (!parsed.success) throw validationError(parsed.error.issues, "burst");
    const { thresholds, ...rest } = parsed.data;
    return { model: "users", ...rest, ...(thresholds && { thresholds }) };
  }
  if (input.stages !== undefined) {
    const parsed = stagedSchema.safeParse(input);
    if (!parsed.success) throw validationError(parsed.error.issues, "burst");
    const { thresholds, durationSeconds: _given, ...rest } = parsed.data;
    return {
      model: "arrival-rate",
      ...rest,
      durationSeconds: stagesSeconds(rest.stages),
      ...(thresholds && { thresholds }),
    };
  }
  const parsed = rateSchema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error.issues, "burst");
  const { thresholds, ...rest } = parsed.data;
  return { model: "arrival-rate", ...rest, ...(thresholds && { thresholds }) };
}

/** Parses a live change `{users?, spawnRate?, ratePerSecond?}` within the same bounds. */
export function parseBurstChange(body: unknown): BurstChange {
  const parsed = changeSchema.safeParse(body ?? {});
  if (!parsed.success) throw validationError(parsed.error.issues, "burst change");
  const { users, spawnRate, ratePerSecond } = parsed.data;
  return {
    ...(users !== undefined && { users }),
    ...(spawnRate !== undefined && { spawnRate }),
    ...(ratePerSecond !== undefined && { ratePerSecond }),
  };
}

/**
 * A burst may only target this deployment's own API. Returns the base URL to use;
 * a `target` with another origin (or path) is a ValidationError on `target`.
 */
export function resolveOwnTarget(target: string | undefined, ownBaseUrl: string): string {
  const own = normaliseBaseUrl(ownBaseUrl);
  if (target === undefined) return own;
  let given: string;
  try {
    given = normaliseBaseUrl(target);
  } catch {
    throw new ValidationError("target is not a URL", [{ field: "target", message: "not an http(s) URL" }]);
  }
  if (given !== own) {
    throw new ValidationError(`a burst can only target this deployment's own API (${own})`, [
      { field: "target", message: `must be ${own}` },
    ]);
  }
  return own;
}

/** `http://Host:80/base/` → `http://host/base`: the form two base URLs are compared in. */
export function normaliseBaseUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TypeError(`not http(s): ${url}`);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** "60s", "2m", "1m30s", "1h", "500ms" or a bare number of seconds (Locust's `-t` syntax) → seconds. */
export function parseDurationSeconds(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) {
    throw new RangeError(`"${text}" is not a duration (try 60s, 2m, 1m30s)`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] ?? "s"] ?? 1), 0);
}

/** "48/s", "48", "2880/m", "2880/min" → orders per second. */
export function parseRatePerSecond(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?$/.exec(text.trim());
  if (!match) throw new RangeError(`"${text}" is not a rate (try 48/s or 2880/m)`);
  const value = Number(match[1]);
  return match[2]?.startsWith("m") ? value / 60 : value;
}
