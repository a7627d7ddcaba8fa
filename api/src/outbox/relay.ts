import {
  errorMessage,
  type Logger,
  type OrderPublisher,
  type OrderStore,
  type ProcessingPlatform,
  type PublishedRoute,
} from "@surge/core";
import type { ApiMetrics } from "../metrics.js";

export interface OutboxRelayOptions {
  /** Rows leased per round. Default 200. */
  batchSize?: number;
  /** How long a leased row is reserved for this relay, in ms. Default 10000. */
  leaseMs?: number;
  /** Wait between empty rounds when nothing wakes the relay, in ms. Default 250. */
  pollIntervalMs?: number;
  /** PublishBatch calls in flight at once (10 messages each). Default 16. */
  parallelBatches?: number;
}

/**
 * Publishes outbox rows to SNS, woken after every accept; rows pile up during a round, so under load
 * each PublishBatch carries ten. On failure rows stay and the relay backs off: delayed, never lost.
 */
export class OutboxRelay {
  readonly #options: Required<OutboxRelayOptions>;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #failures = 0;

  constructor(
    readonly deps: {
      store: OrderStore;
      topic: OrderPublisher;
      log: Logger;
      metrics: ApiMetrics;
      /** The platform each published order goes to (PUT /ops/processing); without it, no route is set (workers). */
      route?: (() => ProcessingPlatform) | undefined;
    },
    options: OutboxRelayOptions = {},
  ) {
    this.#options = {
      batchSize: options.batchSize ?? 200,
      leaseMs: options.leaseMs ?? 10_000,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      parallelBatches: options.parallelBatches ?? 16,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Called after an accept commits: publish without waiting for the next poll. */
  notify(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async close(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let published = 0;
      try {
        published = await this.publishOnce();
        this.#failures = 0;
      } catch (error) {
        this.#failures++;
        this.deps.metrics.publishErrors.inc();
        this.deps.log.warn("outbox publish failed", { error: errorMessage(error), failures: this.#failures });
      }
      if (published > 0 && this.#failures === 0) continue;
      const backoff = this.#failures > 0 ? Math.min(5000, 100 * 2 ** this.#failures) : this.#options.pollIntervalMs;
      await this.#sleep(backoff, this.#failures === 0);
    }
  }

  /**
   * One round: lease a batch, publish it ten to a PublishBatch call with
   * `parallelBatches` calls in flight, then delete what SNS accepted in one
   * statement. Returns how many were published.
   */
  async publishOnce(): Promise<number> {
    const { store, topic, metrics } = this.deps;
    const rows = await store.claimOutbox(this.#options.batchSize, this.#options.leaseMs);
    if (rows.length === 0) return 0;
    const chunks: (typeof rows)[] = [];
    for (let i = 0; i < rows.length; i += 10) chunks.push(rows.slice(i, i + 10));
    const done: typeof rows = [];
    const routes: PublishedRoute[] = [];
    let firstError: unknown;
    let next = 0;
    const lane = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++] ?? [];
        try {
          const route = this.deps.route;
          const entries = chunk.map((r) => ({ row: r, target: route?.() }));
          const ok = await topic.publishBatch(
            entries.map(({ row, target }) => ({ id: String(row.id), message: row.payload, target })),
          );
          const now = Date.now();
          for (const { row, target } of entries) {
            if (!ok.has(String(row.id))) continue;
            done.push(row);
            if (target) routes.push({ orderId: row.orderId, platform: target });
            metrics.publishLatency.observe((now - row.createdAtMs) / 1000);
          }
        } catch (error) {
          firstError ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.parallelBatches, chunks.length) }, lane));
    // Rows SNS did not take keep their lease and come back when it expires. Where the rest went is
    // recorded, so the workers' backlog never counts an order Lambda has.
    await store.completeOutbox(
      done.map((r) => r.id),
      routes,
    );
    metrics.published.inc(done.length);
    if (done.length > 0) metrics.lastPublish.set(Date.now() / 1000);
    if (firstError !== undefined && done.length === 0) throw firstError;
    return done.length;
  }

  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // A failing relay keeps its backoff when new orders arrive; only close() cuts it short.
      this.#wake = () => {
        if (wakeable || !this.#running) done();
      };
    });
  }
}
