import type { OrderQueue, OrderStore } from "@surge/core";

export interface BacklogReading {
  /** Orders for the workers accepted and not yet taken by a task: queued, or failed and waiting for their retry. */
  backlog: number;
  queued: number;
  failed: number;
  /** Orders a task holds now (waiting for a payment slot or paying). */
  processing: number;
  /**
   * Seconds the oldest of the backlog's orders has waited since it was accepted (0 when none): the
   * age-based target's signal, exact where SQS's ApproximateAgeOfOldestMessage is approximate.
   */
  oldestAgeSeconds: number;
  /** SQS's ApproximateNumberOfMessagesVisible at the same moment, when the queue answered in time. */
  sqsVisible?: number;
}

interface BacklogSourceOptions {
  store: Pick<OrderStore, "countByStatus" | "oldestUntakenAcceptedAtMs">;
  /** The orders queue, read for comparison only. */
  queue?: Pick<OrderQueue, "depth"> | undefined;
  /** How long the SQS read may take before it is left out, in ms. Default 1000. */
  sqsTimeoutMs?: number;
  /** The clock the age is taken on (tests pass a fake one). Default Date.now. */
  now?: () => number;
}

/**
 * Waiting orders from the order store, the one exact source: SQS's counters are approximate (the
 * emulator's go stale on a quiet queue), so they are reported beside it, never used alone.
 */
export class BacklogSource {
  readonly #options: BacklogSourceOptions;

  constructor(options: BacklogSourceOptions) {
    this.#options = options;
  }

  async read(): Promise<BacklogReading> {
    // The worker fleet's backlog: orders published to Lambda are Lambda's, however many wait.
    const { store } = this.#options;
    const [counts, oldestAtMs, sqsVisible] = await Promise.all([
      store.countByStatus("workers"),
      store.oldestUntakenAcceptedAtMs("workers"),
      this.#sqsVisible(),
    ]);
    const nowMs = (this.#options.now ?? Date.now)();
    return {
      backlog: counts.queued + counts.failed,
      queued: counts.queued,
      failed: counts.failed,
      processing: counts.processing,
      oldestAgeSeconds: oldestAtMs === undefined ? 0 : Math.max(0, (nowMs - oldestAtMs) / 1000),
      ...(sqsVisible !== undefined && { sqsVisible }),
    };
  }

  async #sqsVisible(): Promise<number | undefined> {
    const queue = this.#options.queue;
    if (!queue) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.#options.sqsTimeoutMs ?? 1000);
    });
    try {
      return await Promise.race([queue.depth().then((d) => d.visible), timeout]);
    } catch {
      return undefined; // the comparison figure is optional; the store's count decides
    } finally {
      clearTimeout(timer);
    }
  }
}
