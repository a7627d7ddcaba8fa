/**
 * When a fleet change deserves a second look before it is sent. A fat-fingered
 * "40" for "4" is 10× the cost and 10× the load on the payment processor;
 * "0" stops all processing while orders keep arriving.
 */
interface JumpCheck {
  big: boolean;
  /** What the confirmation says, when big. */
  reason?: string;
}

/**
 * The one rule for when a desired-count change asks for confirmation, in the words the form and
 * docs/console.md show ("Scale to 0, by 10 or more tasks at once, or to 3× the count or more").
 */
export const SCALE_JUMP = { atOnce: 10, factor: 3 } as const;
export const SCALE_CONFIRM_RULE = `Asks to confirm a change to 0 tasks, by ${SCALE_JUMP.atOnce} or more tasks at once, or to ${SCALE_JUMP.factor}× the current count or more.`;

export function desiredCountJump(from: number, to: number): JumpCheck {
  if (to === from) return { big: false };
  if (to === 0) return { big: true, reason: `0 tasks stops all queue processing: orders keep arriving and wait.` };
  const delta = to - from;
  if (Math.abs(delta) >= SCALE_JUMP.atOnce) {
    return {
      big: true,
      reason: `${delta > 0 ? "adds" : "removes"} ${Math.abs(delta)} tasks at once (${from} → ${to}).`,
    };
  }
  if (from > 0 && to >= from * SCALE_JUMP.factor) {
    return { big: true, reason: `multiplies the fleet by ${Math.round((to / from) * 10) / 10} (${from} → ${to}).` };
  }
  return { big: false };
}

/** What is wrong with a typed desired count, in words; undefined when it is fine. */
export function desiredCountProblem(value: number, maxTasks: number): string | undefined {
  if (Number.isInteger(value) && value >= 0 && value <= maxTasks) return undefined;
  const shown = Number.isFinite(value) ? String(value) : "this";
  return `${shown} is not a whole number from 0 to ${maxTasks} (MAX_WORKER_TASKS)`;
}

/** What is wrong with a typed per-task concurrency, in words; undefined when it is fine. */
export function concurrencyProblem(value: number, maxConcurrency: number): string | undefined {
  if (Number.isInteger(value) && value >= 1 && value <= maxConcurrency) return undefined;
  const shown = Number.isFinite(value) ? String(value) : "this";
  return `${shown} is not a whole number from 1 to ${maxConcurrency}`;
}

/** Who sets the desired count, as the Workers page's banner says it. */
export function controlStatement(
  autoscaling:
    | {
        controlledBy: "operator" | "autoscaler";
        enabled: boolean;
        minTasks: number;
        maxTasks: number;
        targetBacklogPerTask: number;
        suspended?: { by: string; reason: string } | undefined;
      }
    | undefined,
  desiredCount: number,
): string {
  if (!autoscaling) return `An operator sets the desired count (${desiredCount}): this API reports no autoscaler.`;
  if (autoscaling.controlledBy === "autoscaler") {
    return (
      `The autoscaler sets the desired count (${desiredCount} now): its saved policy (${autoscaling.minTasks}–` +
      `${autoscaling.maxTasks} tasks, target ${autoscaling.targetBacklogPerTask} orders/task) is kept across restarts ` +
      `and overrides the starting count (WORKER_TASKS). Setting a count by hand suspends it.`
    );
  }
  if (autoscaling.suspended) {
    return `An operator sets the desired count (${desiredCount}): ${autoscaling.suspended.by} suspended the autoscaler — ${autoscaling.suspended.reason}`;
  }
  return `An operator sets the desired count (${desiredCount}): dynamic scaling is off in the saved policy.`;
}

export function concurrencyJump(from: number, to: number, slots?: number): JumpCheck {
  if (to === from) return { big: false };
  if (to >= from * 4 || to <= from / 4) {
    const note =
      slots !== undefined && to > slots
        ? ` Above the ${slots} payment slots it adds in-flight messages, not throughput.`
        : "";
    return { big: true, reason: `changes per-task concurrency ${from} → ${to} on every task.${note}` };
  }
  return { big: false };
}
