import type { RateBurstSpec, UsersBurstSpec } from "@surge/loadgen";
import type { BurstBounds } from "./ops";
import { PRESETS, STUDY_WAIT_MS } from "./study";

type Fields<S> = Omit<S, "model" | "mode" | "timeoutMs">;

/** The burst form's state: both models' fields, so switching model keeps what was typed. */
export type BurstDraft = Pick<UsersBurstSpec | RateBurstSpec, "model" | "mode"> &
  Fields<UsersBurstSpec> &
  Fields<RateBurstSpec>;

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
};

/** The request body for a draft: only the fields of its model. */
export function burstBody(d: BurstDraft): Record<string, unknown> {
  return d.model === "users"
    ? {
        mode: d.mode,
        users: d.users,
        spawnRate: d.spawnRate,
        durationSeconds: d.durationSeconds,
        waitMinMs: d.waitMinMs,
        waitMaxMs: d.waitMaxMs,
      }
    : { mode: d.mode, ratePerSecond: d.ratePerSecond, durationSeconds: d.durationSeconds, maxInFlight: d.maxInFlight };
}

export type DraftProblems = Partial<Record<keyof BurstDraft, string>>;

/** Field problems against the API's bounds, checked before sending (the API checks again). */
export function draftProblems(d: BurstDraft, b: BurstBounds): DraftProblems {
  const p: DraftProblems = {};
  const ok = (v: number) => Number.isFinite(v);
  if (!ok(d.durationSeconds) || d.durationSeconds < 0.1 || d.durationSeconds > b.maxDurationSeconds)
    p.durationSeconds = `0.1–${b.maxDurationSeconds} s`;
  if (d.model === "users") {
    if (!Number.isInteger(d.users) || d.users < 1 || d.users > b.maxUsers) p.users = `1–${b.maxUsers} users`;
    if (!ok(d.spawnRate) || d.spawnRate <= 0 || d.spawnRate > b.maxUsers)
      p.spawnRate = `above 0, at most ${b.maxUsers}/s`;
    if (!ok(d.waitMinMs) || d.waitMinMs < 0 || d.waitMinMs > b.maxWaitMs) p.waitMinMs = `0–${b.maxWaitMs} ms`;
    if (!ok(d.waitMaxMs) || d.waitMaxMs < d.waitMinMs || d.waitMaxMs > b.maxWaitMs)
      p.waitMaxMs = `at least the minimum, at most ${b.maxWaitMs} ms`;
  } else {
    if (!ok(d.ratePerSecond) || d.ratePerSecond <= 0 || d.ratePerSecond > b.maxRatePerSecond)
      p.ratePerSecond = `above 0, at most ${b.maxRatePerSecond}/s`;
    if (!Number.isInteger(d.maxInFlight) || d.maxInFlight < 1 || d.maxInFlight > b.maxInFlight)
      p.maxInFlight = `1–${b.maxInFlight}`;
  }
  return p;
}
