/** setTimeout's longest delay; beyond it Node fires after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Time as the burst engine sees it. The engine only ever asks for the time and
 * sleeps, so tests drive it with a manual clock and spawn rates, user counts and
 * arrival rates can be checked exactly, without waiting.
 */
export interface Clock {
  /** Monotonic milliseconds (not wall time). */
  now(): number;
  /** Resolves after `ms` (Infinity: only on abort), or at once when `signal` aborts. Never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      // A sleep "until woken" sets no timer at all; the abort is its only way out.
      const timer =
        ms > MAX_TIMER_MS
          ? undefined
          : setTimeout(
              () => {
                signal?.removeEventListener("abort", onAbort);
                resolve();
              },
              Math.max(0, ms),
            );
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};
