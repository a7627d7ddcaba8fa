/**
 * A counting semaphore with strict FIFO hand-off: a released permit goes to the
 * longest waiter, never to a newcomer, so no order starves behind later ones.
 * This is the study's payment processor constraint ("5 at once").
 */
export class Semaphore {
  #inUse = 0;
  readonly #waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`permits must be a positive integer, got ${permits}`);
    }
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves when a permit is held. Rejects if `signal` aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#inUse < this.permits) {
      this.#inUse++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) {
      next.resolve(); // the permit passes straight to the waiter
      return;
    }
    if (this.#inUse === 0) throw new Error("release() without a held permit");
    this.#inUse--;
  }

  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
