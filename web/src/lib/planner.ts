/**
 * The capacity planner's arithmetic. A task pays min(slots, concurrency) ÷ duration orders/s:
 * concurrency above the slots adds messages in flight, not throughput; only more tasks scale.
 */
import { type DrainEstimate, drainEstimate } from "./derive";

export interface PlannerInput {
  /** Orders arriving per second. */
  arrivalPerSecond: number;
  /** Payment slots per task (PAYMENT_SLOTS). */
  slotsPerTask: number;
  /** One payment's duration, in ms (PAYMENT_DURATION_MS). */
  paymentDurationMs: number;
  /** Worker tasks running. */
  tasks: number;
  /** Messages each task works on at once (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Orders waiting now. */
  backlog: number;
  /** The longest an order should wait in the queue, in seconds. */
  targetAgeSeconds: number;
}

interface PlannerResult {
  /** Orders one task pays per second. */
  perTaskPerSecond: number;
  /** Orders the fleet pays per second. */
  processingPerSecond: number;
  /** Positive: the queue grows by this many orders per second; negative: it shrinks. */
  queueGrowthPerSecond: number;
  /** Messages a task holds that are waiting for a payment slot (concurrency above the slots). */
  waitingForSlotPerTask: number;
  /** Messages the fleet holds in flight at full load. */
  inFlightAtFullLoad: number;
  /** Seconds to clear the backlog while arrivals continue; Infinity when the fleet cannot keep up. */
  drainSecondsWhileArriving: number;
  /** The same, as the Overview's drain ETA states it (growing, draining, empty…): one rule for both. */
  drainWhileArriving: DrainEstimate;
  /** Seconds to clear the backlog once arrivals stop; Infinity with no capacity. */
  drainSecondsAfterArrivalsStop: number;
  /** Tasks that keep up with the arrivals (queue stops growing). */
  tasksToKeepUp: number;
  /** Tasks that keep up and serve the current oldest order within the target age. */
  tasksForTargetAge: number;
  /** The autoscaling policy's targetBacklogPerTask that corresponds to the target age. */
  targetBacklogPerTask: number;
}

/** Tasks are whole processes: round up, but never let float noise (36.0000001) add one. */
function ceilTasks(value: number): number {
  if (!Number.isFinite(value)) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.ceil(value - 1e-9));
}

export function plan(input: PlannerInput): PlannerResult {
  const durationSeconds = Math.max(input.paymentDurationMs, 1) / 1000;
  const paying = Math.max(0, Math.min(input.slotsPerTask, input.concurrency));
  const perTaskPerSecond = paying / durationSeconds;
  const processingPerSecond = Math.max(0, input.tasks) * perTaskPerSecond;
  const queueGrowthPerSecond = input.arrivalPerSecond - processingPerSecond;
  const backlog = Math.max(0, input.backlog);
  // The model's rates are exact: no noise band.
  const drainWhileArriving = drainEstimate({
    waiting: backlog,
    arrivalPerSecond: input.arrivalPerSecond,
    processingPerSecond,
    noise: 0,
  });
  const drainSecondsWhileArriving =
    drainWhileArriving.kind === "draining"
      ? drainWhileArriving.seconds
      : drainWhileArriving.kind === "empty"
        ? 0
        : Infinity;
  const drainSecondsAfterArrivalsStop =
    backlog === 0 ? 0 : processingPerSecond > 0 ? backlog / processingPerSecond : Number.POSITIVE_INFINITY;
  // FIFO: the order at the head waits for the backlog ahead of it to be paid, backlog ÷ rate;
  // and the rate must also match the arrivals or the backlog (and every later wait) grows.
  const targetAge = Math.max(input.targetAgeSeconds, 0.001);
  const neededRate = Math.max(input.arrivalPerSecond, backlog / targetAge);
  const tasksToKeepUp = perTaskPerSecond > 0 ? ceilTasks(input.arrivalPerSecond / perTaskPerSecond) : Infinity;
  const tasksForTargetAge = perTaskPerSecond > 0 ? ceilTasks(neededRate / perTaskPerSecond) : Infinity;
  return {
    perTaskPerSecond,
    processingPerSecond,
    queueGrowthPerSecond,
    waitingForSlotPerTask: Math.max(0, input.concurrency - input.slotsPerTask),
    inFlightAtFullLoad: Math.max(0, input.tasks) * Math.max(0, input.concurrency),
    drainSecondsWhileArriving,
    drainWhileArriving,
    drainSecondsAfterArrivalsStop,
    tasksToKeepUp,
    tasksForTargetAge,
    targetBacklogPerTask: targetAge * perTaskPerSecond,
  };
}

/**
 * The study's lesson in plain words, with the planner's own numbers: what
 * raising the concurrency does, and what adding tasks does.
 */
export function lesson(input: PlannerInput): string[] {
  const r = plan(input);
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  const lines: string[] = [];
  const perTask = fmt(r.perTaskPerSecond);
  if (input.concurrency > input.slotsPerTask) {
    lines.push(
      `Concurrency ${input.concurrency} is above the ${input.slotsPerTask} payment slots: each task holds ` +
        `${input.concurrency} messages but pays only ${input.slotsPerTask} at once, so ${r.waitingForSlotPerTask} ` +
        `wait for a slot. It still processes ${perTask} orders/s — more in flight, not more throughput.`,
    );
  } else if (input.concurrency < input.slotsPerTask) {
    lines.push(
      `Concurrency ${input.concurrency} is below the ${input.slotsPerTask} payment slots: ` +
        `${input.slotsPerTask - input.concurrency} slot(s) per task stay idle. Raising it to ${input.slotsPerTask} ` +
        `raises a task to ${fmt(input.slotsPerTask / (input.paymentDurationMs / 1000))} orders/s; beyond that it adds nothing.`,
    );
  } else {
    lines.push(
      `Concurrency equals the ${input.slotsPerTask} payment slots: each task pays ${perTask} orders/s, its ceiling. ` +
        `Raising the concurrency further adds in-flight messages, not throughput.`,
    );
  }
  if (Number.isFinite(r.tasksToKeepUp) && input.arrivalPerSecond > 0) {
    lines.push(
      `Only more tasks scale: each adds ${perTask} orders/s. Keeping up with ${fmt(input.arrivalPerSecond)} orders/s ` +
        `takes ${r.tasksToKeepUp} task${r.tasksToKeepUp === 1 ? "" : "s"} (the study first computed 36 for 60 orders/s; its final answer, 25 × 100 goroutines, is below).`,
    );
  } else if (r.perTaskPerSecond > 0) {
    lines.push(
      `Only more tasks scale: each adds ${perTask} orders/s (the study first computed 36 for 60 orders/s; its final answer, 25 × 100 goroutines, is below).`,
    );
  }
  return lines;
}
