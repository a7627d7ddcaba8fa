import { errorMessage, type Logger, type OrderStore, type OrderTopic } from "@surge/core";
import type { ApiMetrics } from "./metrics.js";

export interface OutboxRelayOptions {
  /** Rows leased per round. Default 200. */
  batchSize?: number;
  /** How long a leased row is reserved for this relay, in ms. Default 10000. */
  leaseMs?: number;
  /** Wait between empty rounds when nothing wakes the relay, in ms. Default 250. */
  pollIntervalMs?: number;
  /** PublishBatch calls in flight at once (10 messages each). Default 8. */
  parallelBatches?: number;
}

/**
 * Publishes outbox rows to SNS. The API wakes it after every accept; while a
 * round is in flight new rows pile up, so under load every PublishBatch carries
 * ten orders and the accept path never waits for SNS. When SNS fails, rows stay
 * in the outbox and the relay backs off: an outage delays orders, never loses them.
 */
export class OutboxRelay {
  readonly #options: Required<OutboxRelayOptions>;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #failures = 0;

  constructor(
    readonly deps: { store: OrderStore; topic: OrderTopic; log: Logger; metrics: ApiMetrics },
    options: OutboxRelayOptions = {},
  ) {
    this.#options = {
      batchSize: options.batchSize ?? 200,
      leaseMs: options.leaseMs ?? 10_000,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      parallelBatches: options.parallelBatches ?? 8,
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

  /** One round: lease, publish, delete what SNS accepted. Returns how many were published. */
  async publishOnce(): Promise<number> {
    const { store, topic, metrics } = this.deps;
    const rows = await store.claimOutbox(this.#options.batchSize, this.#options.leaseMs);
    if (rows.length === 0) return 0;
    const chunks: (typeof rows)[] = [];
    for (let i = 0; i < rows.length; i += 10) chunks.push(rows.slice(i, i + 10));
    let published = 0;
    let firstError: unknown;
    for (let i = 0; i < chunks.length; i += this.#options.parallelBatches) {
      const results = await Promise.allSettled(
        chunks.slice(i, i + this.#options.parallelBatches).map(async (chunk) => {
          const ok = await topic.publishBatch(chunk.map((r) => ({ id: String(r.id), message: r.payload })));
          const done = chunk.filter((r) => ok.has(String(r.id)));
          await store.completeOutbox(done.map((r) => r.id));
          const now = Date.now();
          for (const r of done) metrics.publishLatency.observe((now - r.createdAtMs) / 1000);
          metrics.published.inc(done.length);
          if (done.length > 0) metrics.lastPublish.set(now / 1000);
          return done.length;
        }),
      );
      for (const r of results) {
        if (r.status === "fulfilled") published += r.value;
        else firstError ??= r.reason;
      }
    }
    // Rows SNS did not take keep their lease and come back when it expires.
    if (firstError !== undefined && published === 0) throw firstError;
    return published;
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
