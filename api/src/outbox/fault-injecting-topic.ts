import type { OrderPublisher, OrderStore, PublishEntry } from "@surge/core";

/** The store setting every API process reads: an SNS publish outage until this time. */
export const PUBLISH_FAULTS_SETTING = "faults.publish";

export interface PublishFaults {
  /** Publishing fails until this time (epoch ms). */
  outageUntilMs?: number;
}

/** What the relay sees while a publish outage is injected: the same as an SNS outage, a failed call. */
class PublishOutageError extends Error {
  override readonly name = "PublishOutageError";
}

/**
 * SNS publishing with a fault seam: while PUT /ops/faults/publish sets an outage (stored, so every API
 * task sees it), each publish fails as an unreachable SNS would. The setting is re-read every `refreshMs`.
 */
export class FaultInjectingTopic implements OrderPublisher {
  #checkedAtMs = 0;
  #outageUntilMs = 0;

  constructor(
    readonly inner: OrderPublisher,
    readonly store: OrderStore,
    readonly refreshMs = 500,
  ) {}

  async publishBatch(entries: ReadonlyArray<PublishEntry>): Promise<Set<string>> {
    const now = Date.now();
    if (now - this.#checkedAtMs >= this.refreshMs) {
      this.#checkedAtMs = now;
      this.#outageUntilMs = (await this.store.getSetting<PublishFaults>(PUBLISH_FAULTS_SETTING))?.outageUntilMs ?? 0;
    }
    if (now < this.#outageUntilMs) {
      throw new PublishOutageError(
        `SNS publish outage injected for ${Math.ceil((this.#outageUntilMs - now) / 1000)} s more (PUT /ops/faults/publish)`,
      );
    }
    return this.inner.publishBatch(entries);
  }
}
