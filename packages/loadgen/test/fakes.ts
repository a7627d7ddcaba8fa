/** Fakes for the burst engine's tests: a manual clock, a scripted order API, a seeded random source. */
import type { BurstMode, Clock, OrderTarget, RateBurstSpec, UsersBurstSpec } from "../src/index.js";

export { seededRandom } from "../src/random.js";

/** A users-model spec as parseBurstSpec returns it: its optional fields at their defaults. */
export const usersSpec = (over: Partial<UsersBurstSpec> = {}): UsersBurstSpec => ({
  model: "users",
  mode: "async",
  users: 20,
  spawnRate: 10,
  durationSeconds: 60,
  waitMinMs: 100,
  waitMaxMs: 500,
  timeoutMs: 60_000,
  ...over,
});

/** An arrival-rate spec: 48 orders/s for 10 s. */
export const rateSpec = (over: Partial<RateBurstSpec> = {}): RateBurstSpec => ({
  model: "arrival-rate",
  mode: "async",
  ratePerSecond: 48,
  durationSeconds: 10,
  maxInFlight: 2000,
  timeoutMs: 60_000,
  ...over,
});

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * A clock that only moves when told to. Timers due at the same instant fire in
 * the order they were set; between timers every pending promise chain settles,
 * so the engine sees time exactly as the test dictates.
 */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Set<Timer>();

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        fire: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers.delete(timer);
        resolve();
      };
      if (Number.isFinite(timer.at)) this.#timers.add(timer);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * A stalled event loop: time jumps by `ms` with no timer firing on the way; the timers that
   * came due fire late, all at the new time (as Node's do after a long synchronous task).
   */
  async stall(ms: number): Promise<void> {
    await settle();
    this.#now += ms;
    await this.advance(0);
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.#timers) {
        if (t.at <= until && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at); // a stalled clock fires overdue timers late, not in the past
      next.fire();
      await settle();
    }
    this.#now = until;
    await settle();
  }
}

/** Lets every pending promise chain run (a few macrotask turns, for chains that hop through several awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface FakeCall {
  at: number;
  mode: BurstMode;
  body: unknown;
}

/**
 * An order API that answers after `latencyMs(callIndex)` of manual-clock time
 * with `status(callIndex)`, and honours aborts like a real HTTP client.
 */
export class FakeTarget implements OrderTarget {
  readonly calls: FakeCall[] = [];
  inFlight = 0;
  peakInFlight = 0;
  closed = false;

  constructor(
    readonly clock: ManualClock,
    readonly latencyMs: (i: number) => number = () => 10,
    readonly status: (i: number) => number = () => 202,
  ) {}

  async placeOrder(mode: BurstMode, body: string, signal: AbortSignal): Promise<{ status: number }> {
    const i = this.calls.length;
    this.calls.push({ at: this.clock.now(), mode, body: JSON.parse(body) });
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      await this.clock.sleep(this.latencyMs(i), signal);
      if (signal.aborted) throw signal.reason ?? new Error("aborted");
      return { status: this.status(i) };
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
