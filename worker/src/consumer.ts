import { EventEmitter } from "node:events";
import type { Message } from "@aws-sdk/client-sqs";
import {
  errorMessage,
  isRetryable,
  NonRetryableError,
  OrderBusyError,
  type OrderQueue,
  type OrderStore,
  type PaymentProcessor,
  PaymentUnavailableError,
  type ProcessOutcome,
  parseOrderMessage,
  processOrder,
  sleep,
  TASK_CONCURRENCY_MAX,
  TASK_CONCURRENCY_MIN,
  withHeartbeat,
} from "@surge/core";

import { CircuitBreaker } from "./circuit-breaker.js";

interface ConsumerOptions {
  /** Who this task is: holds order leases and names its charges. */
  taskId: string;
  /** Orders this task works on at once (WORKER_CONCURRENCY). Default 5; 1..200; settable live. */
  concurrency: number;
  /** Long-poll wait per ReceiveMessage, in seconds. Default 20 (the maximum SQS allows). */
  waitTimeSeconds?: number;
  /** The queue's visibility timeout, in seconds: the heartbeat extends by this much. Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Receives after which a failing order is dead-lettered (the queue's maxReceiveCount). Default 5. */
  maxReceiveCount?: number;
  /** First retry delay after a declined payment, in seconds; doubles per receive. Default 2. */
  retryBaseDelaySeconds?: number;
  /** Longest retry delay, in seconds. Default 300. */
  retryMaxDelaySeconds?: number;
  /** Pause after a failed ReceiveMessage, in ms; connection errors wait 10× longer. Default 500. */
  pollingErrorBackoffMs?: number;
  random?: () => number;
  /** The payment processor's circuit breaker. Default: a CircuitBreaker with its defaults. */
  breaker?: CircuitBreaker;
}

export type ProcessedOutcome =
  | "paid"
  | "duplicate"
  | "declined"
  | "unavailable"
  | "retry"
  | "deferred"
  | "dead_lettered"
  | "released";

interface ConsumerEvents {
  processed: [
    {
      outcome: ProcessedOutcome;
      seconds: number;
      endToEndSeconds?: number;
      slotWaitSeconds?: number;
      orderId?: string;
    },
  ];
  received: [{ count: number }];
  /** Messages a closing task's last poll brought, handed back unprocessed. */
  released: [{ count: number }];
  error: [{ error: unknown; where: string }];
  idle: [];
}

interface InFlight {
  message: Message;
  done: Promise<void>;
}

/**
 * One worker task's SQS poll loop (after bbc/sqs-consumer), at most `concurrency` orders in flight;
 * a heartbeat keeps each waiting or paying order's message and lease, so concurrency never redelivers.
 */
export class OrderConsumer extends EventEmitter<ConsumerEvents> {
  readonly #options: Required<Omit<ConsumerOptions, "concurrency" | "breaker">>;
  readonly breaker: CircuitBreaker;
  #concurrency: number;
  readonly #inFlight = new Set<InFlight>();
  #running = false;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Aborts the receive in flight: at once on an abrupt stop, after the poll's own window on a drained one. */
  readonly #pollAbort = new AbortController();
  /** Aborted when shutdown starts: the loop's waits (circuit open, concurrency full) end. */
  readonly #stopAbort = new AbortController();
  /** Aborted when shutdown starts: orders still waiting for a slot go back to the queue. */
  readonly #slotAbort = new AbortController();
  /** Aborted at the shutdown deadline: orders still paying go back too. */
  readonly #hardAbort = new AbortController();
  processedTotal = 0;

  constructor(
    readonly deps: { queue: OrderQueue; store: OrderStore; payments: PaymentProcessor },
    options: ConsumerOptions,
  ) {
    super();
    this.#concurrency = validateConcurrency(options.concurrency);
    this.breaker = options.breaker ?? new CircuitBreaker();
    // A probe's verdict (or a closed circuit) may free the poll loop.
    this.breaker.on("change", () => this.#wake?.());
    this.#options = {
      taskId: options.taskId,
      waitTimeSeconds: options.waitTimeSeconds ?? 20,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
      maxReceiveCount: options.maxReceiveCount ?? 5,
      retryBaseDelaySeconds: options.retryBaseDelaySeconds ?? 2,
      retryMaxDelaySeconds: options.retryMaxDelaySeconds ?? 300,
      pollingErrorBackoffMs: options.pollingErrorBackoffMs ?? 500,
      random: options.random ?? Math.random,
    };
  }

  get concurrency(): number {
    return this.#concurrency;
  }

  /** Takes effect at the next poll; lowering it lets in-flight orders finish. */
  set concurrency(value: number) {
    this.#concurrency = validateConcurrency(value);
    this.#wake?.();
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  get isRunning(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running || this.#closing) return;
    this.#running = true;
    this.#loop = this.#poll();
  }

  /**
   * Stops receiving, hands back orders not yet paying, lets payments finish until `deadlineMs`,
   * then hands back the rest; idempotent. `drain` (default) waits for the long poll in flight,
   * since aborting it can strand messages SQS already gave it (docs/workers-and-autoscaling.md).
   */
  close(deadlineMs = 30_000, options: { drain?: boolean } = {}): Promise<void> {
    // Already draining and now told to hurry: the poll goes now.
    if (this.#closing && options.drain === false) this.#pollAbort.abort(new Error("consumer closing"));
    this.#closing ??= (async () => {
      this.#running = false;
      const drain = options.drain ?? true;
      const pollLimitMs = drain ? Math.min(deadlineMs, this.#options.waitTimeSeconds * 1000 + 5_000) : 0;
      const pollLimit = setTimeout(() => this.#pollAbort.abort(new Error("consumer closing")), pollLimitMs);
      this.#stopAbort.abort(new Error("consumer closing"));
      this.#slotAbort.abort(new Error("consumer closing"));
      this.#wake?.();
      const deadline = setTimeout(() => this.#hardAbort.abort(new Error("shutdown deadline passed")), deadlineMs);
      try {
        await this.#loop?.catch(() => {});
        await Promise.allSettled([...this.#inFlight].map((f) => f.done));
      } finally {
        clearTimeout(pollLimit);
        clearTimeout(deadline);
      }
    })();
    return this.#closing;
  }

  async #poll(): Promise<void> {
    while (this.#running) {
      const openMs = this.breaker.remainingOpenMs;
      if (openMs > 0) {
        // The processor is down: take no new orders until a probe may go through.
        await sleep(openMs, this.#stopAbort.signal);
        continue;
      }
      const free = this.breaker.permits(this.#concurrency - this.#inFlight.size);
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      let messages: Message[];
      try {
        messages = await this.deps.queue.receive(
          Math.min(10, free),
          this.#options.waitTimeSeconds,
          this.#pollAbort.signal,
        );
      } catch (error) {
        if (!this.#running) break;
        this.emit("error", { error, where: "receive" });
        const connection = /ECONNREFUSED|ECONNRESET|socket|network|timeout/i.test(errorMessage(error));
        await sleep(this.#options.pollingErrorBackoffMs * (connection ? 10 : 1), this.#stopAbort.signal);
        continue;
      }
      if (!this.#running) {
        // Closing while the poll was out: what it brought goes straight back, for another task.
        await this.#release(messages);
        break;
      }
      if (messages.length === 0) {
        this.breaker.releaseProbe();
        this.emit("idle");
        continue;
      }
      this.emit("received", { count: messages.length });
      for (const message of messages) this.#dispatch(message);
    }
  }

  async #release(messages: ReadonlyArray<Message>): Promise<void> {
    const results = await Promise.allSettled(
      messages.map((m) => this.deps.queue.changeVisibility(m.ReceiptHandle ?? "", 0)),
    );
    for (const result of results) {
      if (result.status === "rejected") this.emit("error", { error: result.reason, where: "release on close" });
    }
    if (messages.length > 0) this.emit("released", { count: messages.length });
  }

  #dispatch(message: Message): void {
    const entry: InFlight = { message, done: Promise.resolve() };
    entry.done = this.#handle(message).finally(() => {
      this.#inFlight.delete(entry);
      this.#wake?.();
    });
    this.#inFlight.add(entry);
  }

  async #handle(message: Message): Promise<void> {
    const started = performance.now();
    const receiptHandle = message.ReceiptHandle ?? "";
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const { queue, store, payments } = this.deps;
    const { visibilityTimeoutSeconds, taskId } = this.#options;
    let orderId: string | undefined;
    const finish = (outcome: ProcessedOutcome, extra: { endToEndSeconds?: number; slotWaitSeconds?: number } = {}) => {
      // A decline is the processor answering: it is up. Other non-payment outcomes say nothing.
      if (outcome === "declined") this.breaker.success();
      else if (outcome !== "paid" && outcome !== "duplicate" && outcome !== "unavailable") this.breaker.releaseProbe();
      this.processedTotal += outcome === "paid" || outcome === "duplicate" ? 1 : 0;
      this.emit("processed", {
        outcome,
        seconds: (performance.now() - started) / 1000,
        ...extra,
        ...(orderId ? { orderId } : {}),
      });
    };
    try {
      orderId = parseOrderMessage(message.Body).orderId;
      const id = orderId;
      const result: ProcessOutcome = await withHeartbeat(
        (visibilityTimeoutSeconds * 1000) / 3,
        () =>
          Promise.all([
            queue.changeVisibility(receiptHandle, visibilityTimeoutSeconds),
            store.renewLease(id, taskId, visibilityTimeoutSeconds * 1000),
          ]),
        () =>
          processOrder(id, {
            store,
            payments,
            holder: taskId,
            leaseMs: visibilityTimeoutSeconds * 1000,
            signal: this.#hardAbort.signal,
            slotSignal: this.#slotAbort.signal,
          }),
      );
      // Delete only now: the store says paid (or dead), so the message has done its job.
      await queue.delete(receiptHandle);
      this.breaker.success();
      if (result.outcome === "paid") {
        finish("paid", {
          endToEndSeconds: (Date.now() - Date.parse(result.order.acceptedAt)) / 1000,
          slotWaitSeconds: result.slotWaitMs / 1000,
        });
      } else {
        finish("duplicate");
      }
    } catch (error) {
      const outcome = await this.#onFailure(message, orderId, error, receiveCount).catch((cleanupError) => {
        this.emit("error", { error: cleanupError, where: "failure handling" });
        return "retry" as const;
      });
      finish(outcome);
    }
  }

  /** The one place that decides what happens to a message whose order did not get paid. */
  async #onFailure(
    message: Message,
    orderId: string | undefined,
    error: unknown,
    receiveCount: number,
  ): Promise<ProcessedOutcome> {
    const { queue, store } = this.deps;
    const receiptHandle = message.ReceiptHandle ?? "";
    if (this.#slotAbort.signal.aborted && !(error instanceof NonRetryableError) && isAbort(error)) {
      // Shutting down before this order was paid: make it visible again at once for another task.
      await queue.changeVisibility(receiptHandle, 0);
      return "released";
    }
    if (error instanceof PaymentUnavailableError) {
      // Not the order's fault: no dead-lettering, and it comes back when a probe may go through.
      this.breaker.failure();
      const seconds = Math.max(1, Math.ceil(this.breaker.remainingOpenMs / 1000) + this.#options.random() * 2);
      await queue.changeVisibility(receiptHandle, seconds);
      return "unavailable";
    }
    if (error instanceof OrderBusyError) {
      await queue.changeVisibility(receiptHandle, Math.ceil(error.retryAfterMs / 1000) + 1);
      return "deferred";
    }
    const reason = errorMessage(error);
    if (!isRetryable(error) || receiveCount >= this.#options.maxReceiveCount) {
      const why = isRetryable(error) ? `gave up after ${receiveCount} receives: ${reason}` : reason;
      await queue.sendToDlq(message.Body ?? "", why, orderId);
      if (orderId) await store.markDead(orderId, why);
      await queue.delete(receiptHandle);
      this.emit("error", { error, where: `dead-lettered${orderId ? ` order ${orderId}` : ""}` });
      return "dead_lettered";
    }
    await queue.changeVisibility(receiptHandle, this.retryDelaySeconds(receiveCount));
    return error instanceof Error && error.name === "PaymentDeclinedError" ? "declined" : "retry";
  }

  /** Exponential backoff with equal jitter: half fixed, half random, capped. */
  retryDelaySeconds(receiveCount: number): number {
    const { retryBaseDelaySeconds: base, retryMaxDelaySeconds: max, random } = this.#options;
    const exp = Math.min(max, base * 2 ** Math.max(0, receiveCount - 1));
    return Math.max(1, Math.round(exp / 2 + random() * (exp / 2)));
  }
}

export function validateConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < TASK_CONCURRENCY_MIN || value > TASK_CONCURRENCY_MAX) {
    throw new RangeError(
      `concurrency must be an integer in ${TASK_CONCURRENCY_MIN}..${TASK_CONCURRENCY_MAX}, got ${value}`,
    );
  }
  return value;
}

function isAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "AbortError" || /consumer closing|shutdown deadline|aborted/i.test(error.message))
  );
}
