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

export function desiredCountJump(from: number, to: number): JumpCheck {
  if (to === from) return { big: false };
  if (to === 0) return { big: true, reason: `0 tasks stops all queue processing: orders keep arriving and wait.` };
  const delta = to - from;
  if (Math.abs(delta) >= 10) {
    return {
      big: true,
      reason: `${delta > 0 ? "adds" : "removes"} ${Math.abs(delta)} tasks at once (${from} → ${to}).`,
    };
  }
  if (from > 0 && to >= from * 3 && delta >= 5) {
    return { big: true, reason: `multiplies the fleet by ${Math.round((to / from) * 10) / 10} (${from} → ${to}).` };
  }
  return { big: false };
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
