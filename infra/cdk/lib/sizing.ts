import type { StageConfig } from "./config.js";

/**
 * The numbers the deployment derives from the study's physics rather than from
 * AWS defaults. Pure functions, so the formulas are unit-tested and documented
 * in one place (the README's "Deploying Surge to AWS" quotes them).
 */

/** Slack added to the worst-case hold time: network, a CPU-starved 0.25 vCPU task, a GC pause. */
const VISIBILITY_MARGIN_SECONDS = 10;
/** SQS's ceiling for a visibility timeout. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** Time the worker needs after its payment deadline: hand back the rest, close the store, exit. */
const STOP_MARGIN_SECONDS = 5;
/** Fargate's ceiling for a container's stopTimeout. */
const MAX_FARGATE_STOP_TIMEOUT_SECONDS = 120;
/** SQS long polling: the longest ReceiveMessage wait SQS allows. */
export const LONG_POLL_SECONDS = 20;
/** Dead letters are kept as long as SQS allows, so a weekend outage can still be redriven. */
export const DLQ_RETENTION_DAYS = 14;

type Physics = Pick<StageConfig, "paymentDurationMs" | "paymentSlots" | "workerConcurrency">;

/**
 * The orders queue's visibility timeout, in seconds.
 *
 * A task receives up to `concurrency` orders at once but pays only `slots` at a
 * time, so the last order of a full batch waits `ceil(concurrency ÷ slots) − 1`
 * payment rounds for a slot and then pays for one more round:
 *
 *   hold = ceil(concurrency ÷ slots) × paymentDuration
 *   visibilityTimeout = ceil(2 × hold) + 10 s
 *
 * Doubling covers one missed heartbeat (the worker extends visibility every
 * timeout ÷ 3 while an order waits or pays); the 10 s margin covers network and
 * a CPU-starved task. Not the 30 s default: with the study's 5 orders, 5 slots
 * and 3 s payments this is 16 s, so a crashed task's orders come back in 16 s,
 * while 100 orders per task (the study's "goroutines") get 130 s instead of
 * being redelivered and paid-for twice over.
 */
export function visibilityTimeoutSeconds(p: Physics): number {
  const rounds = Math.ceil(p.workerConcurrency / p.paymentSlots);
  const holdSeconds = (rounds * p.paymentDurationMs) / 1000;
  return Math.min(MAX_VISIBILITY_TIMEOUT_SECONDS, Math.ceil(2 * holdSeconds) + VISIBILITY_MARGIN_SECONDS);
}

/** Seconds one task needs per order when it is busy: a payment's duration over the payments it runs at once. */
export function secondsPerOrderPerTask(p: Physics): number {
  return p.paymentDurationMs / 1000 / Math.min(p.paymentSlots, p.workerConcurrency);
}

/**
 * Target backlog per task for the worker service's target tracking, after AWS's
 * "scaling based on Amazon SQS" guidance: acceptable latency ÷ time per message.
 * The study: 30 s ÷ (3 s ÷ 5 slots) = 50 visible orders per running task.
 */
export function targetBacklogPerTask(p: Physics & Pick<StageConfig, "acceptableLatencySeconds">): number {
  return Math.max(1, Math.floor(p.acceptableLatencySeconds / secondsPerOrderPerTask(p)));
}

/**
 * The worker container's stopTimeout: ECS sends SIGTERM, waits this long, then
 * SIGKILL. It must outlast SHUTDOWN_DEADLINE_MS (payments in flight finish) plus
 * the hand-back of unfinished orders and the store's close, or scale-in would
 * kill payments mid-flight. 25 s deadline → 30 s.
 */
export function workerStopTimeoutSeconds(p: Pick<StageConfig, "shutdownDeadlineMs">): number {
  const seconds = Math.ceil(p.shutdownDeadlineMs / 1000) + STOP_MARGIN_SECONDS;
  if (seconds > MAX_FARGATE_STOP_TIMEOUT_SECONDS) {
    throw new RangeError(
      `shutdownDeadlineMs ${p.shutdownDeadlineMs} needs a stopTimeout of ${seconds} s; Fargate allows ${MAX_FARGATE_STOP_TIMEOUT_SECONDS} s`,
    );
  }
  return seconds;
}

/**
 * The Lambda order processor's timeout: one invocation pays one order (its
 * environment never waits for a slot), so twice a payment plus the same margin
 * as the queue. The study's 3 s payments → 16 s.
 */
export function lambdaTimeoutSeconds(p: Pick<StageConfig, "paymentDurationMs">): number {
  return Math.ceil((2 * p.paymentDurationMs) / 1000) + VISIBILITY_MARGIN_SECONDS;
}
