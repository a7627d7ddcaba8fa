import { errorMessage, type Logger, type OrderQueue, type OrderStore } from "@surge/core";
import { Counter, type Registry } from "prom-client";

export interface RepublisherOptions {
  /**
   * An async order still waiting after this long without any touch (claim, retry, release) is a
   * candidate for publishing again, in ms. Default 120000: beyond any retry backoff or lease.
   */
  staleAfterMs?: number;
  /** Time between sweeps, in ms. Default 10000. */
  intervalMs?: number;
  /** Most orders one sweep publishes again. Default 500. */
  batchLimit?: number;
}

/**
 * Republishes orders the broker lost (an emulator restart, a purged queue): when the store holds more
 * waiting async orders than the queue holds messages, the oldest untouched for `staleAfterMs` get an
 * outbox row again. A wrong guess costs a duplicate, which the payment ledger makes harmless.
 */
export class StaleOrderRepublisher {
  readonly #options: Required<RepublisherOptions>;
  readonly #republished: Counter;
  #timer: NodeJS.Timeout | undefined;
  #sweep: Promise<number> | undefined;
  #closed = false;

  constructor(
    readonly deps: {
      store: OrderStore;
      queue: OrderQueue;
      log: Logger;
      registry: Registry;
      /** Wakes the outbox relay after a sweep wrote rows. */
      onRepublished: () => void;
    },
    options: RepublisherOptions = {},
  ) {
    this.#options = {
      staleAfterMs: options.staleAfterMs ?? 120_000,
      intervalMs: options.intervalMs ?? 10_000,
      batchLimit: options.batchLimit ?? 500,
    };
    this.#republished = new Counter({
      name: "surge_orders_republished_total",
      help: "Async orders published again because the queue had lost their message (store-driven recovery)",
      registers: [deps.registry],
    });
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#sweep) return; // a slow sweep is skipped, never stacked
      this.#sweep = this.sweepOnce()
        .catch((error) => {
          this.deps.log.warn("stale-order sweep failed", { error: errorMessage(error) });
          return 0;
        })
        .finally(() => {
          this.#sweep = undefined;
        });
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#sweep;
  }

  /** One sweep: how many orders lack a message, and publishing the stale ones among them. Returns how many. */
  async sweepOnce(): Promise<number> {
    const { store, queue, log } = this.deps;
    // Orders published to Lambda were never on the queue: only the workers' orders are expected there.
    const [counts, outbox, depth] = await Promise.all([
      store.countByStatus("workers"),
      store.outboxStats(),
      queue.depth(),
    ]);
    // Sync orders in progress are counted too (they never have a message): the estimate errs towards a duplicate.
    const expectedOnQueue = counts.queued + counts.failed + counts.processing - outbox.pending;
    const onQueue = depth.visible + depth.inFlight + depth.delayed;
    const missing = expectedOnQueue - onQueue;
    if (missing <= 0) return 0;
    const ids = await store.republishStale(this.#options.staleAfterMs, Math.min(missing, this.#options.batchLimit));
    if (ids.length === 0) return 0;
    this.#republished.inc(ids.length);
    log.warn("published orders again: the queue had lost their messages", {
      orders: ids.length,
      expectedOnQueue,
      onQueue,
      oldest: ids[0],
    });
    this.deps.onRepublished();
    return ids.length;
  }
}
