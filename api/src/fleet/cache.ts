import type { Fleet, FleetState } from "./types.js";

/**
 * A value read at most once per `ttlMs`, concurrent readers sharing one read: on ECS each fleet read is
 * several API calls against the account's rate limits.
 */
export function shared<T>(read: () => Promise<T>, ttlMs: number, now: () => number = Date.now) {
  let value: { at: number; promise: Promise<T> } | undefined;
  return {
    get(): Promise<T> {
      const at = now();
      if (value && at - value.at < ttlMs) return value.promise;
      const promise = read();
      value = { at, promise };
      // A failed read is not kept: the next caller tries again.
      promise.catch(() => {
        if (value?.promise === promise) value = undefined;
      });
      return promise;
    },
    invalidate(): void {
      value = undefined;
    },
  };
}

/** A Fleet whose `describe()` is shared for `ttlMs`; every change goes through and invalidates it. */
export class CachedFleet implements Fleet {
  readonly #fleet: Fleet;
  readonly #state;

  constructor(fleet: Fleet, ttlMs = 1000) {
    this.#fleet = fleet;
    this.#state = shared(() => fleet.describe(), ttlMs);
  }

  get kind(): Fleet["kind"] {
    return this.#fleet.kind;
  }

  describe(): Promise<FleetState> {
    return this.#state.get();
  }

  /** A fresh read, for decisions that must not act on a second-old count (a manual change's "before"). */
  describeFresh(): Promise<FleetState> {
    this.#state.invalidate();
    return this.#state.get();
  }

  async setDesiredCount(count: number): Promise<FleetState> {
    this.#state.invalidate();
    return this.#fleet.setDesiredCount(count);
  }

  async setConcurrency(concurrency: number): Promise<FleetState> {
    this.#state.invalidate();
    return this.#fleet.setConcurrency(concurrency);
  }
}
