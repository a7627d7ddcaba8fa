import {
  errorMessage,
  NonRetryableError,
  PaymentDeclinedError,
  PaymentUnavailableError,
  RetryableError,
} from "./errors.js";
import type { Order } from "./order.js";
import type { PaymentProcessor } from "./payment.js";
import type { OrderStore } from "./store/types.js";

interface ProcessOrderDeps {
  store: OrderStore;
  payments: PaymentProcessor;
  /** Who holds the order's lease while it is processed (task id, "api-<pid>", Lambda request id). */
  holder: string;
  /** Lease length; the caller's heartbeat renews it while the order waits or pays. */
  leaseMs: number;
  /** Aborts the whole attempt (deadline passed). */
  signal?: AbortSignal | undefined;
  /** Aborts only while the order still waits for a payment slot (shutdown began). */
  slotSignal?: AbortSignal | undefined;
}

export type ProcessOutcome =
  | { outcome: "paid"; order: Order; chargeId: string; replayed: boolean; slotWaitMs: number }
  | { outcome: "already-paid"; order: Order }
  | { outcome: "already-dead"; order: Order };

/** A retryable error that carries how long to wait before the next attempt. */
export class OrderBusyError extends RetryableError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * The one order handler: the long-poll worker, the Lambda handlers and the
 * synchronous endpoint all come through here.
 *
 * queued/failed → processing → paid. A second delivery of a paid order is
 * acknowledged without paying again; the charge is keyed by the order id, so
 * even a crash between "charged" and "marked paid" cannot charge twice.
 * Throws PaymentDeclinedError (retry with backoff), OrderBusyError (another
 * holder has it) or NonRetryableError (unknown order).
 */
export async function processOrder(orderId: string, deps: ProcessOrderDeps): Promise<ProcessOutcome> {
  const claim = await deps.store.claimOrder(orderId, deps.holder, deps.leaseMs);
  switch (claim.kind) {
    case "paid":
      return { outcome: "already-paid", order: claim.order };
    case "dead":
      return { outcome: "already-dead", order: claim.order };
    case "missing":
      throw new NonRetryableError(`order ${orderId} is not in the store`);
    case "busy":
      throw new OrderBusyError(`order ${orderId} is being processed elsewhere`, claim.leaseRemainingMs);
  }
  const order = claim.order;
  try {
    const result = await deps.payments.charge(
      { idempotencyKey: `order:${orderId}`, orderId, amountCents: order.totalCents },
      { signal: deps.signal, slotSignal: deps.slotSignal },
    );
    await deps.store.markPaid(orderId, result.charge.chargeId);
    return {
      outcome: "paid",
      order: { ...order, status: "paid", paidAt: new Date().toISOString() },
      chargeId: result.charge.chargeId,
      replayed: result.replayed,
      slotWaitMs: result.slotWaitMs,
    };
  } catch (error) {
    if (error instanceof PaymentDeclinedError) {
      await deps.store.markFailed(orderId, deps.holder, errorMessage(error));
    } else if (error instanceof PaymentUnavailableError || deps.signal?.aborted || deps.slotSignal?.aborted) {
      // No charge happened (processor down, or interrupted): hand the order back untouched.
      await deps.store.releaseOrder(orderId, deps.holder);
    }
    throw error;
  }
}

/**
 * Runs `beat` every `intervalMs` while `work` runs. Used to extend SQS message
 * visibility and the store lease, so an order waiting behind busy payment slots
 * is never redelivered to another task.
 */
export async function withHeartbeat<T>(
  intervalMs: number,
  beat: () => Promise<unknown>,
  work: () => Promise<T>,
): Promise<T> {
  const timer = setInterval(() => {
    beat().catch(() => {
      // A missed beat is not fatal: the next one, or the lease, covers it.
    });
  }, intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
