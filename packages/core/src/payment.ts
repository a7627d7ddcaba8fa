import { setTimeout as delay } from "node:timers/promises";
import { PaymentDeclinedError, PaymentUnavailableError } from "./errors.js";
import { Semaphore } from "./semaphore.js";
import type { Charge, OrderStore } from "./store/types.js";

interface PaymentProcessorOptions {
  /** Payments this processor runs at once (the study: 5). */
  slots: number;
  /** How long one payment takes, in ms (the study: 3000). */
  durationMs: number;
  /** Probability in [0, 1] that a payment is declined. Default 0. */
  failureRate?: number;
  /** Names this processor in the ledger (task id, "api", "lambda"). */
  processorId: string;
  ledger: Pick<OrderStore, "recordCharge" | "findCharge">;
  /** Injected faults (a simulated outage, a failure rate set at run time). Default: none. */
  faults?: PaymentFaultSource;
  random?: () => number;
}

/** What the operator injected: the processor is down until `outageUntilMs`; `failureRate` overrides the env's. */
export interface PaymentFaults {
  outageUntilMs?: number;
  failureRate?: number;
}

interface PaymentFaultSource {
  current(): Promise<PaymentFaults>;
}

/** Where faults live: one store setting every process reads, cached briefly so a payment never waits on it. */
export const PAYMENT_FAULTS_SETTING = "payment.faults";

export class StoredPaymentFaults implements PaymentFaultSource {
  #cached: PaymentFaults = {};
  #readAt = 0;
  #reading: Promise<PaymentFaults> | undefined;

  constructor(
    readonly store: Pick<OrderStore, "getSetting">,
    /** How long a read is reused, in ms. Default 1000. */
    readonly cacheMs = 1000,
  ) {}

  current(): Promise<PaymentFaults> {
    if (Date.now() - this.#readAt < this.cacheMs) return Promise.resolve(this.#cached);
    this.#reading ??= this.store
      .getSetting<PaymentFaults>(PAYMENT_FAULTS_SETTING)
      .then((value) => {
        this.#cached = value ?? {};
        this.#readAt = Date.now();
        return this.#cached;
      })
      .catch(() => this.#cached) // the store being down is not a payment outage
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }
}

interface ChargeRequest {
  /** The processor's idempotency key: a second charge with the same key is a replay, not a payment. */
  idempotencyKey: string;
  orderId: string;
  amountCents: number;
}

interface ChargeResult {
  charge: Charge;
  replayed: boolean;
  slotWaitMs: number;
}

/**
 * The study's payment processor: each payment holds one of `slots` for
 * `durationMs`; callers beyond the slots wait in FIFO order. One per process,
 * so N processes pay at N × slots / duration — and no faster, whatever the
 * in-process concurrency. Charges are written to a durable ledger keyed by
 * idempotency key, the way real processors make retries safe.
 */
export class PaymentProcessor {
  readonly #slots: Semaphore;
  readonly #random: () => number;
  /** When each payment now holding a slot started (performance.now()): what a slot-wait estimate reads. */
  readonly #paying = new Set<{ startedAt: number }>();

  constructor(readonly options: PaymentProcessorOptions) {
    this.#slots = new Semaphore(options.slots);
    this.#random = options.random ?? Math.random;
  }

  get slots(): number {
    return this.#slots.permits;
  }
  get slotsInUse(): number {
    return this.#slots.inUse;
  }
  get waiting(): number {
    return this.#slots.waiting;
  }

  /**
   * How long a payment would wait for a slot with `ahead` callers queued before it (default: the
   * callers waiting now), in ms. Every payment takes `durationMs` and the hand-off is FIFO, so slot
   * i frees at its remaining time + k × durationMs: the caller at position p gets the slot that frees
   * (p mod slots)-th, p div slots rounds later.
   */
  estimateSlotWaitMs(ahead = this.waiting, now = performance.now()): number {
    const duration = this.options.durationMs;
    const remaining = [...this.#paying].map((p) => Math.max(0, duration - (now - p.startedAt)));
    while (remaining.length < this.slots) remaining.push(0);
    remaining.sort((a, b) => a - b);
    const position = Math.max(0, Math.floor(ahead));
    return (remaining[position % this.slots] ?? 0) + Math.floor(position / this.slots) * duration;
  }

  /**
   * Charges once per idempotency key. `signal` aborts the whole charge (no ledger
   * write happens after an abort); `slotSignal` aborts only the wait for a slot,
   * so a stopping task can hand back orders it has not started paying.
   */
  async charge(
    request: ChargeRequest,
    { signal, slotSignal }: { signal?: AbortSignal | undefined; slotSignal?: AbortSignal | undefined } = {},
  ): Promise<ChargeResult> {
    // A replayed key answers at once from the ledger: the customer was charged already.
    const existing = await this.options.ledger.findCharge(request.idempotencyKey);
    if (existing) return { charge: existing, replayed: true, slotWaitMs: 0 };

    const faults = (await this.options.faults?.current()) ?? {};
    const unavailable = () => {
      const until = faults.outageUntilMs ?? 0;
      if (until > Date.now()) {
        throw new PaymentUnavailableError(
          `payment processor unavailable (outage for another ${Math.ceil((until - Date.now()) / 1000)} s)`,
        );
      }
    };
    // Down is down: fail fast, like a refused connection, without taking a slot.
    unavailable();
    const waitStart = performance.now();
    await this.#slots.acquire(slotSignal && signal ? AbortSignal.any([signal, slotSignal]) : (slotSignal ?? signal));
    const slotWaitMs = performance.now() - waitStart;
    const paying = { startedAt: performance.now() };
    this.#paying.add(paying);
    try {
      await delay(this.options.durationMs, undefined, { signal }).catch(() => {
        throw signal?.reason;
      });
      if (this.#random() < (faults.failureRate ?? this.options.failureRate ?? 0)) {
        throw new PaymentDeclinedError(`payment declined for order ${request.orderId}`);
      }
      const { charge, replayed } = await this.options.ledger.recordCharge({
        idempotencyKey: request.idempotencyKey,
        orderId: request.orderId,
        amountCents: request.amountCents,
        processorId: this.options.processorId,
      });
      return { charge, replayed, slotWaitMs };
    } finally {
      this.#paying.delete(paying);
      this.#slots.release();
    }
  }
}
