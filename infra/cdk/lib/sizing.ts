import type { StageConfig } from "./config.js";

// The numbers the deployment derives from the study's physics rather than AWS defaults, as pure
// functions so they are unit-tested; docs/deploy-aws.md ("The numbers") explains each.

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
 * The orders queue's visibility timeout: ceil(2 × ceil(concurrency ÷ slots) × paymentDuration) + 10 s,
 * the last order of a full batch's hold, doubled to survive one missed heartbeat.
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

/** Target backlog per task (AWS's SQS scaling guidance): acceptable latency ÷ time per order. */
export function targetBacklogPerTask(p: Physics & Pick<StageConfig, "acceptableLatencySeconds">): number {
  return Math.max(1, Math.floor(p.acceptableLatencySeconds / secondsPerOrderPerTask(p)));
}

/** The worker's stopTimeout (SIGTERM to SIGKILL): outlasts SHUTDOWN_DEADLINE_MS so scale-in never kills a payment. */
export function workerStopTimeoutSeconds(p: Pick<StageConfig, "shutdownDeadlineMs">): number {
  const seconds = Math.ceil(p.shutdownDeadlineMs / 1000) + STOP_MARGIN_SECONDS;
  if (seconds > MAX_FARGATE_STOP_TIMEOUT_SECONDS) {
    throw new RangeError(
      `shutdownDeadlineMs ${p.shutdownDeadlineMs} needs a stopTimeout of ${seconds} s; Fargate allows ${MAX_FARGATE_STOP_TIMEOUT_SECONDS} s`,
    );
  }
  return seconds;
}

/** The Lambda's timeout: one invocation pays one order without waiting for a slot, so twice a payment plus the margin. */
export function lambdaTimeoutSeconds(p: Pick<StageConfig, "paymentDurationMs">): number {
  return Math.ceil((2 * p.paymentDurationMs) / 1000) + VISIBILITY_MARGIN_SECONDS;
}
