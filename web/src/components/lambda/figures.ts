/**
 * The Lambda page's figures in words, pure so the rules are unit-tested: unknown reads "—", the
 * cold-start text and tiles count from the same numbers, starting environments are not busy ones.
 */
import { count, ms } from "../../lib/format";

/** p50 / p99 of a duration, "—" when there is no sample (no cold start, no invocation). */
export function durationPair(stats: { count: number; p50: number; p99: number }): { p50: string; p99: string } {
  if (stats.count === 0) return { p50: "—", p99: "—" };
  return { p50: ms(stats.p50), p99: ms(stats.p99) };
}

/** What the init histogram says beside the Cold starts tile: both from the window's counts. */
export function coldStartNote(input: { coldStarts: number; recentCold: number; recentShown: number }): string {
  const { coldStarts, recentCold, recentShown } = input;
  if (coldStarts === 0 && recentCold === 0) return "No cold starts in the last hour.";
  if (recentCold === 0) {
    return `${count(coldStarts)} cold starts in the last hour, none among the ${count(recentShown)} newest REPORT lines: the histogram has nothing to draw; the Init tile covers all ${count(coldStarts)}.`;
  }
  return `${count(recentCold)} of the last hour's ${count(Math.max(coldStarts, recentCold))} cold starts are among the ${count(recentShown)} newest REPORT lines drawn here.`;
}

/** "Concurrent now": invocations running; environments still in their init phase are starting, not busy. */
export function concurrentNow(live: {
  concurrentExecutions: number;
  invocations: number;
  environments?: { idle: number; busy: number; starting?: number } | undefined;
}): { value: string; hint: string } {
  const env = live.environments;
  const starting = env?.starting ?? 0;
  if (live.invocations === 0 && live.concurrentExecutions === 0) {
    return {
      value: "0",
      hint: starting > 0 ? `no invocation yet · ${count(starting)} environments starting` : "no invocation yet",
    };
  }
  if (!env) return { value: count(live.concurrentExecutions), hint: "invocations running" };
  const invoking = Math.max(0, env.busy - starting);
  return {
    value: count(live.concurrentExecutions),
    hint: `${count(invoking)} invoking, ${count(starting)} starting, ${count(env.idle)} idle`,
  };
}

/** Whether throttled or failed invocations cost orders: a throttled async event is retried; only dead orders are lost. */
export function lambdaBacklogNote(input: { throttles: number; errors: number; dead: number }): string {
  const { throttles, dead } = input;
  if (throttles === 0 && dead === 0) return "No throttles, no dead orders.";
  const retried = throttles > 0 ? `${count(throttles)} throttled events were retried (async invocation)` : "";
  if (dead === 0) return `${retried}: none lost — no order routed to Lambda is dead.`;
  const lost = `${count(dead)} order${dead === 1 ? "" : "s"} routed to Lambda ${dead === 1 ? "is" : "are"} dead: see Queue & DLQ.`;
  return retried ? `${retried}; ${lost}` : lost;
}

/** Time-axis labels (HH:MM) for bins starting at `startsMs`, at most `maxTicks`, placed by fraction of the width. */
export function timeTicks(startsMs: number[], maxTicks: number): Array<{ fraction: number; label: string }> {
  const n = startsMs.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.ceil(n / Math.max(1, maxTicks)));
  const ticks: Array<{ fraction: number; label: string }> = [];
  for (let i = 0; i < n; i += step) {
    const at = startsMs[i] ?? 0;
    ticks.push({
      fraction: i / n,
      label: new Date(at).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false }),
    });
  }
  return ticks;
}
