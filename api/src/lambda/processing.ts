import type { OrderStore, ProcessingPlatform } from "@surge/core";

/** Where new orders are processed: the worker fleet, the Lambda function, or both (split evenly). */
export const PROCESSING_TARGETS = ["workers", "lambda", "both"] as const;
export type ProcessingTarget = (typeof PROCESSING_TARGETS)[number];

/** The store setting that keeps the target across API restarts. */
export const PROCESSING_SETTING = "processing.target";

/**
 * Picks each published order's platform (a message attribute the subscriptions filter on). "both"
 * alternates, so each order still goes to exactly one.
 */
export class ProcessingRouter {
  #target: ProcessingTarget = "workers";
  #turn = 0;

  constructor(
    readonly store: OrderStore,
    readonly options: {
      /** Whether this deployment has a Lambda function to route to. Default true. */
      lambdaAvailable?: boolean;
    } = {},
  ) {}

  get target(): ProcessingTarget {
    return this.#target;
  }

  /**
   * Reads the persisted target: workers when none was ever set, or when the
   * stored one needs a Lambda function this deployment does not have (the
   * setting is kept for when it has one again). Returns what was stored.
   */
  async load(): Promise<{ target: ProcessingTarget; stored: ProcessingTarget | undefined }> {
    const value = await this.store.getSetting<string>(PROCESSING_SETTING);
    const stored = isProcessingTarget(value) ? value : undefined;
    const usable = stored === "workers" || this.options.lambdaAvailable !== false;
    this.#target = stored && usable ? stored : "workers";
    return { target: this.#target, stored };
  }

  /** Persists first: a target the API cannot keep is not applied. */
  async set(target: ProcessingTarget): Promise<void> {
    await this.store.setSetting(PROCESSING_SETTING, target);
    this.#target = target;
  }

  /** The platform of the next order. */
  next(): ProcessingPlatform {
    if (this.#target !== "both") return this.#target;
    this.#turn = (this.#turn + 1) % 2;
    return this.#turn === 1 ? "workers" : "lambda";
  }
}

function isProcessingTarget(value: unknown): value is ProcessingTarget {
  return typeof value === "string" && (PROCESSING_TARGETS as readonly string[]).includes(value);
}
