import { parseOrThrow, ValidationError } from "@surge/core";
import { z } from "zod";

/**
 * Target tracking on backlog per task (waiting orders ÷ running tasks), AWS's recipe for queue
 * workers: the target is the acceptable queueing latency ÷ one task's time per order.
 */
export interface ScalingPolicy {
  /** Whether the autoscaler sets the desired count. Default false (AUTOSCALING_ENABLED). */
  enabled: boolean;
  /** Fewest tasks it scales to. Default 1. */
  minTasks: number;
  /** Most tasks it scales to; at most MAX_WORKER_TASKS. Default MAX_WORKER_TASKS. */
  maxTasks: number;
  /** Orders waiting per running task that the fleet is sized for. Default 10. */
  targetBacklogPerTask: number;
  /**
   * Seconds after a scale-out before another scale-out. Default 5: the backlog is exact and the
   * desired count an absolute target, so repeated scale-outs cannot compound the way they can on
   * a lagging CloudWatch metric; the cooldown only spaces the steps while new tasks start.
   */
  scaleOutCooldownSeconds: number;
  /**
   * Seconds after any scaling activity before a scale-in, and the window whose
   * highest need a scale-in must respect (the need has to stay low that long,
   * like AWS's scale-in alarm that needs many low datapoints). Default 60.
   */
  scaleInCooldownSeconds: number;
  /**
   * Seconds the oldest order waiting for a task may have waited, or null to scale on the backlog
   * only. Default null. The age-based need is `ceil(max(running, 1) × oldestAge ÷ target)`, target
   * tracking as Application Auto Scaling does it; the fleet gets the larger of the two needs.
   */
  targetOldestAgeSeconds: number | null;
}

export const POLICY_DEFAULTS = {
  enabled: false,
  minTasks: 1,
  targetBacklogPerTask: 10,
  scaleOutCooldownSeconds: 5,
  scaleInCooldownSeconds: 60,
  targetOldestAgeSeconds: null,
} as const satisfies Omit<ScalingPolicy, "maxTasks">;

const COOLDOWN_MAX_SECONDS = 3600;
const TARGET_MAX = 100_000;
/** An hour: past that the age target no longer protects a sale's customers from anything. */
const AGE_TARGET_MAX_SECONDS = 3600;

/**
 * Validates a policy update against the current policy: fields absent keep
 * their value; every bound error names the field and the bound.
 */
export function parsePolicyUpdate(body: unknown, current: ScalingPolicy, maxWorkerTasks: number): ScalingPolicy {
  const schema = z.strictObject({
    enabled: z.boolean("must be true or false").optional(),
    minTasks: z
      .int(`must be an integer in 0..${maxWorkerTasks}`)
      .min(0, `must be an integer in 0..${maxWorkerTasks}`)
      .max(maxWorkerTasks, `must be an integer in 0..${maxWorkerTasks} (MAX_WORKER_TASKS)`)
      .optional(),
    maxTasks: z
      .int(`must be an integer in 1..${maxWorkerTasks}`)
      .min(1, `must be an integer in 1..${maxWorkerTasks}`)
      .max(maxWorkerTasks, `must be an integer in 1..${maxWorkerTasks} (MAX_WORKER_TASKS)`)
      .optional(),
    targetBacklogPerTask: z
      .number(`must be a number in (0, ${TARGET_MAX}]`)
      .positive(`must be a number in (0, ${TARGET_MAX}]`)
      .max(TARGET_MAX, `must be a number in (0, ${TARGET_MAX}]`)
      .optional(),
    scaleOutCooldownSeconds: z
      .int(`must be an integer in 0..${COOLDOWN_MAX_SECONDS}`)
      .min(0, `must be an integer in 0..${COOLDOWN_MAX_SECONDS}`)
      .max(COOLDOWN_MAX_SECONDS, `must be an integer in 0..${COOLDOWN_MAX_SECONDS}`)
      .optional(),
    scaleInCooldownSeconds: z
      .int(`must be an integer in 0..${COOLDOWN_MAX_SECONDS}`)
      .min(0, `must be an integer in 0..${COOLDOWN_MAX_SECONDS}`)
      .max(COOLDOWN_MAX_SECONDS, `must be an integer in 0..${COOLDOWN_MAX_SECONDS}`)
      .optional(),
    targetOldestAgeSeconds: z
      .number(`must be null or a number of seconds in (0, ${AGE_TARGET_MAX_SECONDS}]`)
      .positive(`must be null or a number of seconds in (0, ${AGE_TARGET_MAX_SECONDS}]`)
      .max(AGE_TARGET_MAX_SECONDS, `must be null or a number of seconds in (0, ${AGE_TARGET_MAX_SECONDS}]`)
      .nullable()
      .optional(),
  });
  const parsed = { data: parseOrThrow(schema, body ?? {}, "autoscaling policy") };
  const next: ScalingPolicy = { ...current, ...stripUndefined(parsed.data) };
  if (next.minTasks > next.maxTasks) {
    const field = parsed.data.minTasks !== undefined ? "minTasks" : "maxTasks";
    const message = `minTasks (${next.minTasks}) must not exceed maxTasks (${next.maxTasks})`;
    throw new ValidationError(`invalid autoscaling policy: ${field}: ${message}`, [{ field, message }]);
  }
  return next;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What one evaluation sees. `backlog` comes from the order store, never from a lagging queue gauge alone. */
export interface Observation {
  nowMs: number;
  /** Orders accepted and not yet taken by a task (queued, or failed and waiting for their retry). */
  backlog: number;
  /**
   * Seconds the oldest order waiting for a task has waited (queued, or failed awaiting its retry;
   * 0 when none), from the order store. Absent: the age target is not evaluated.
   */
  oldestAgeSeconds?: number | undefined;
  running: number;
  /** The desired count now, whoever set it. */
  desired: number;
}

/** What the autoscaler remembers between evaluations. */
export interface ScalingMemory {
  lastScaleOutAtMs?: number | undefined;
  lastScaleInAtMs?: number | undefined;
  /** When the autoscaler began watching (started, or re-enabled): scale-in needs a full window of evidence. */
  observingSinceMs: number;
  /** Tasks needed at each recent evaluation, oldest first, kept for one scale-in window. */
  needs: Array<{ atMs: number; needed: number }>;
}

/**
 * What drove a decision: the backlog per task, the oldest order's age, or the policy's bounds
 * (a desired count outside [min, max] brought inside).
 */
export type ScalingSignal = "backlog" | "age" | "bounds";

export type Decision = { needed: number; cause: string; signal: ScalingSignal } & (
  | { action: "none" }
  | { action: "out" | "in"; to: number }
  | { action: "hold"; direction: "out" | "in"; to: number; waitSeconds: number }
);

const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const n = (value: number) => fmt.format(value);
const tasks = (count: number) => `${n(count)} task${count === 1 ? "" : "s"}`;

/** Tasks the backlog calls for: clamp(ceil(backlog ÷ target), min, max). */
export function tasksNeeded(policy: ScalingPolicy, backlog: number): number {
  const raw = Math.ceil(backlog / policy.targetBacklogPerTask);
  return Math.min(policy.maxTasks, Math.max(policy.minTasks, raw));
}

/**
 * Tasks the oldest order's age calls for, unclamped: ceil(max(running, 1) × age ÷ target), how
 * target tracking sizes a fleet (the capacity that let the age grow, times how far it is off).
 * Running tasks, not the desired count, so tasks still starting do not compound the next step;
 * at least 1 while anything waits, so an empty fleet is started. 0 when nothing waits.
 */
export function tasksForAge(targetSeconds: number, oldestAgeSeconds: number, running: number): number {
  if (oldestAgeSeconds <= 0) return 0;
  return Math.max(1, Math.ceil((Math.max(1, running) * oldestAgeSeconds) / targetSeconds));
}

/**
 * The signal whose need is larger (the backlog on a tie) with its raw need and reasoning in words,
 * and the other signal's reasoning, for the record.
 */
function need(
  policy: ScalingPolicy,
  obs: Observation,
): { raw: number; signal: "backlog" | "age"; why: string; other?: string } {
  const backlogRaw = Math.ceil(obs.backlog / policy.targetBacklogPerTask);
  const perTask = obs.backlog / Math.max(1, obs.running);
  const backlogWhy =
    `backlog ${n(obs.backlog)} over ${tasks(obs.running)} (${n(perTask)}/task), ` +
    `target ${n(policy.targetBacklogPerTask)}/task → ${tasks(backlogRaw)}`;
  const target = policy.targetOldestAgeSeconds;
  if (target === null || obs.oldestAgeSeconds === undefined)
    return { raw: backlogRaw, signal: "backlog", why: backlogWhy };
  const age = obs.oldestAgeSeconds;
  const ageRaw = tasksForAge(target, age, obs.running);
  const cmp = age > target ? ">" : age < target ? "<" : "=";
  const ageWhy =
    `oldest order ${n(age)} s ${cmp} target ${n(target)} s` +
    (age > 0 ? ` (${n(Math.max(1, obs.running))} × ${n(age)} ÷ ${n(target)}) → ${tasks(ageRaw)}` : ` → ${tasks(0)}`);
  return ageRaw > backlogRaw
    ? { raw: ageRaw, signal: "age", why: ageWhy, other: backlogWhy }
    : { raw: backlogRaw, signal: "backlog", why: backlogWhy, other: ageWhy };
}

/**
 * One evaluation, pure so the cooldowns are tested with a fake clock. Scale-in never goes below the
 * highest need in its cooldown window: a queue a big fleet emptied must not collapse the fleet.
 */
export function decide(policy: ScalingPolicy, obs: Observation, memory: ScalingMemory): Decision {
  const { raw, signal, why: reason, other } = need(policy, obs);
  const needed = Math.min(policy.maxTasks, Math.max(policy.minTasks, raw));
  let why = reason;
  if (raw > policy.maxTasks) why += `, capped at max ${n(policy.maxTasks)}`;
  if (raw < policy.minTasks) why += `, raised to min ${n(policy.minTasks)}`;
  if (other) why += ` (${other})`;

  if (obs.desired > policy.maxTasks) {
    return {
      action: "in",
      needed,
      signal: "bounds",
      to: policy.maxTasks,
      cause: `desired ${obs.desired} is above max ${policy.maxTasks}`,
    };
  }
  if (obs.desired < policy.minTasks) {
    return {
      action: "out",
      needed,
      signal: "bounds",
      to: policy.minTasks,
      cause: `desired ${obs.desired} is below min ${policy.minTasks}`,
    };
  }

  /** A hold until a cooldown ends at `readyAt`; undefined once it has. */
  const held = (direction: "out" | "in", readyAt: number, to: number): Decision | undefined => {
    if (obs.nowMs >= readyAt) return undefined;
    const waitSeconds = Math.ceil((readyAt - obs.nowMs) / 1000);
    const cause = `${why}; held at ${obs.desired}: scale-${direction} cooldown, ${waitSeconds} s left`;
    return { action: "hold", direction, needed, signal, to, waitSeconds, cause };
  };

  if (needed > obs.desired) {
    const readyAt = (memory.lastScaleOutAtMs ?? Number.NEGATIVE_INFINITY) + policy.scaleOutCooldownSeconds * 1000;
    return held("out", readyAt, needed) ?? { action: "out", needed, signal, to: needed, cause: why };
  }

  if (needed < obs.desired) {
    const windowMs = policy.scaleInCooldownSeconds * 1000;
    const recent = memory.needs.filter((s) => s.atMs > obs.nowMs - windowMs);
    const floor = Math.max(needed, ...recent.map((s) => s.needed));
    if (floor >= obs.desired) {
      const within = `${floor} needed within the last ${policy.scaleInCooldownSeconds} s`;
      return { action: "none", needed, signal, cause: `${why}; keeping ${obs.desired}: ${within}` };
    }
    const lastActivity = Math.max(
      memory.lastScaleOutAtMs ?? Number.NEGATIVE_INFINITY,
      memory.lastScaleInAtMs ?? Number.NEGATIVE_INFINITY,
      memory.observingSinceMs,
    );
    const hold = held("in", lastActivity + windowMs, floor);
    if (hold) return hold;
    const cause =
      floor > needed ? `${why}; the most needed in the last ${policy.scaleInCooldownSeconds} s was ${floor}` : why;
    return { action: "in", needed, signal, to: floor, cause: floor > needed ? `${cause} → ${tasks(floor)}` : cause };
  }
  return { action: "none", needed, signal, cause: why };
}

/** Remembers this evaluation's need and forgets what fell out of the scale-in window. */
export function remember(memory: ScalingMemory, policy: ScalingPolicy, atMs: number, needed: number): void {
  memory.needs.push({ atMs, needed });
  const horizon = atMs - policy.scaleInCooldownSeconds * 1000;
  while (memory.needs.length > 0 && (memory.needs[0]?.atMs ?? 0) <= horizon) memory.needs.shift();
}
