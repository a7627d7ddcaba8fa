import { parseOrThrow, type SaleWindow, ValidationError } from "@surge/core";
import { z } from "zod";

export type WindowState = "upcoming" | "active" | "past" | "cancelled";

/** What the schedule routes answer for one window (SPEC "Contract additions"). */
export interface SaleWindowView {
  id: string;
  startsAt: string;
  endsAt: string;
  minTasks: number;
  lambdaProvisionedConcurrency: number | null;
  state: WindowState;
  createdAt: string;
  createdBy: string;
  cancelledAt: string | null;
  /** What happens to the Lambda provisioned concurrency asked for, on this deployment. */
  lambdaNote?: string;
}

export function windowState(window: SaleWindow, nowMs: number): WindowState {
  if (window.cancelledAtMs !== null) return "cancelled";
  if (nowMs < window.startsAtMs) return "upcoming";
  return nowMs < window.endsAtMs ? "active" : "past";
}

/** The window in force at `nowMs`: started, not ended, not cancelled. */
export function activeWindow(windows: ReadonlyArray<SaleWindow>, nowMs: number): SaleWindow | undefined {
  return windows.find((w) => windowState(w, nowMs) === "active");
}

export function toView(window: SaleWindow, nowMs: number, lambdaNote?: string): SaleWindowView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: window.id,
    startsAt: iso(window.startsAtMs),
    endsAt: iso(window.endsAtMs),
    minTasks: window.minTasks,
    lambdaProvisionedConcurrency: window.lambdaProvisionedConcurrency,
    state: windowState(window, nowMs),
    createdAt: iso(window.createdAtMs),
    createdBy: window.createdBy,
    cancelledAt: window.cancelledAtMs === null ? null : iso(window.cancelledAtMs),
    ...(window.lambdaProvisionedConcurrency !== null && lambdaNote && { lambdaNote }),
  };
}

/** Longest window accepted: a sale, not a permanent floor (that is the policy's minTasks). */
export const MAX_WINDOW_DAYS = 7;
/** Lambda's default regional concurrency quota: more provisioned concurrency than that cannot be granted. */
export const MAX_PROVISIONED_CONCURRENCY = 1000;

export interface WindowRequest {
  startsAtMs: number;
  endsAtMs: number;
  minTasks: number;
  lambdaProvisionedConcurrency: number | null;
}

const fail = (field: string, message: string): never => {
  throw new ValidationError(`invalid sale window: ${field}: ${message}`, [{ field, message }]);
};

/** Validates `POST /ops/schedules`: each error names the field and the bound. */
export function parseWindowRequest(body: unknown, nowMs: number, maxWorkerTasks: number): WindowRequest {
  const time = z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time, e.g. 2026-11-27T09:00:00Z" });
  const tasks = `must be an integer in 1..${maxWorkerTasks} (MAX_WORKER_TASKS)`;
  const pc = `must be an integer in 1..${MAX_PROVISIONED_CONCURRENCY}, or null`;
  const schema = z.strictObject({
    startsAt: time,
    endsAt: time,
    minTasks: z.int(tasks).min(1, tasks).max(maxWorkerTasks, tasks),
    lambdaProvisionedConcurrency: z.int(pc).min(1, pc).max(MAX_PROVISIONED_CONCURRENCY, pc).nullable().optional(),
  });
  const parsed = { data: parseOrThrow(schema, body ?? {}, "sale window") };
  const startsAtMs = Date.parse(parsed.data.startsAt);
  const endsAtMs = Date.parse(parsed.data.endsAt);
  if (startsAtMs < nowMs) fail("startsAt", `must not be in the past (now ${new Date(nowMs).toISOString()})`);
  if (endsAtMs <= startsAtMs) fail("endsAt", `must be after startsAt (${parsed.data.startsAt})`);
  if (endsAtMs - startsAtMs > MAX_WINDOW_DAYS * 86_400_000)
    fail("endsAt", `must be within ${MAX_WINDOW_DAYS} days of startsAt`);
  return {
    startsAtMs,
    endsAtMs,
    minTasks: parsed.data.minTasks,
    lambdaProvisionedConcurrency: parsed.data.lambdaProvisionedConcurrency ?? null,
  };
}
