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
} as const;

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
}

/** k6's constant-arrival-rate model: orders start at `ratePerSecond` whatever the answers take (open loop). */
export interface RateBurstSpec {
  model: "arrival-rate";
  mode: BurstMode;
  ratePerSecond: number;
  durationSeconds: number;
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
  })
  .refine((s) => s.waitMaxMs >= s.waitMinMs, {
    path: ["waitMaxMs"],
    message: "waitMaxMs must be at least waitMinMs",
  });

const rateSchema = z.strictObject({
  ...commonShape,
  ratePerSecond: rateField,
  maxInFlight: z
    .int()
    .min(1, "maxInFlight must be at least 1")
    .max(BURST_BOUNDS.maxInFlight, bound("maxInFlight", BURST_BOUNDS.maxInFlight, "requests"))
    .default(BURST_DEFAULTS.maxInFlight),
});

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
  const hasRate = input.ratePerSecond !== undefined;
  if (hasUsers === hasRate) {
    throw new ValidationError("a burst has either users and spawnRate (user model) or ratePerSecond (arrival rate)", [
      { field: hasUsers ? "ratePerSecond" : "users", message: "give users + spawnRate, or ratePerSecond, not both" },
    ]);
  }
  if (hasUsers) {
    const parsed = usersSchema.safeParse(input);
    if (!parsed.success) throw validationError(parsed.error.issues, "burst");
    return { model: "users", ...parsed.data };
  }
  const parsed = rateSchema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error.issues, "burst");
  return { model: "arrival-rate", ...parsed.data };
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
