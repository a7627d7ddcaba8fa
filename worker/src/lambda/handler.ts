import type { Logger, OrderStore, PaymentProcessor } from "@surge/core";
import type { Context, SNSEvent, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { errorMessage, isRetryable, processOrder, withHeartbeat } from "./core.js";
import { parseOrderMessage } from "./message.js";

interface LambdaHandlerDeps {
  store: OrderStore;
  /** This execution environment's payment processor: its own slots, like any other process. */
  payments: PaymentProcessor;
  log: Logger;
  /**
   * How long an invocation holds an order's lease, in ms; a heartbeat renews it
   * every third of that while the order pays. Default 30000 (the function timeout).
   */
  leaseMs?: number;
  /**
   * SQS event source: receives after which an order that still fails is marked
   * dead, so the queue's redrive moves its message to the DLQ with the store
   * agreeing (the queue's maxReceiveCount). Default 5.
   */
  maxReceiveCount?: number;
  /**
   * Time kept back before the invocation's deadline, in ms: an order still
   * waiting or paying then is handed back untouched rather than cut off by the
   * timeout. Default 500.
   */
  deadlineMarginMs?: number;
}

/** What became of one order message in one invocation. */
type RecordOutcome = "paid" | "duplicate" | "rejected" | "failed" | "dead";

interface RecordResult {
  outcome: RecordOutcome;
  orderId?: string;
  error?: string;
}

/** Thrown by the SNS handler so the platform retries the event (async invocation: 3 attempts, then the DLQ). */
export class OrderProcessingError extends Error {
  override readonly name = "OrderProcessingError";
  constructor(readonly failures: ReadonlyArray<RecordResult>) {
    super(
      `${failures.length} order(s) not processed: ${failures.map((f) => `${f.orderId ?? "?"}: ${f.error}`).join("; ")}`,
    );
  }
}

/**
 * The Lambda entry points, through core's processOrder on the workers' store. The lease holder is
 * the delivery's id, so a retried delivery takes its own lease back at once (docs/lambda.md).
 */
export function createLambdaHandlers(deps: LambdaHandlerDeps) {
  const leaseMs = deps.leaseMs ?? 30_000;
  const maxReceiveCount = deps.maxReceiveCount ?? 5;
  const deadlineMarginMs = deps.deadlineMarginMs ?? 500;

  async function handleOrderMessage(body: string, holder: string, context: Context): Promise<RecordResult> {
    let orderId: string | undefined;
    try {
      orderId = parseOrderMessage(body).orderId;
    } catch (error) {
      // Not an order message: no order can be lost by dropping it, and no retry can fix it.
      deps.log.error("not an order message", { holder, error: errorMessage(error) });
      return { outcome: "rejected", error: errorMessage(error) };
    }
    const id = orderId;
    const deadline = new AbortController();
    const remainingMs = context.getRemainingTimeInMillis();
    const timer = setTimeout(
      () => deadline.abort(new Error("invocation deadline reached")),
      Math.max(0, remainingMs - deadlineMarginMs),
    );
    try {
      const result = await withHeartbeat(
        leaseMs / 3,
        () => deps.store.renewLease(id, holder, leaseMs),
        () =>
          processOrder(id, { store: deps.store, payments: deps.payments, holder, leaseMs, signal: deadline.signal }),
      );
      if (result.outcome === "paid") {
        deps.log.info("order paid", {
          orderId: id,
          requestId: context.awsRequestId,
          slotWaitMs: Math.round(result.slotWaitMs),
          endToEndMs: Date.now() - Date.parse(result.order.acceptedAt),
        });
        return { outcome: "paid", orderId: id };
      }
      deps.log.info("order already settled", { orderId: id, status: result.order.status });
      return { outcome: "duplicate", orderId: id };
    } catch (error) {
      if (!isRetryable(error)) {
        // An order the store does not know was never accepted: nothing to retry, nothing lost.
        deps.log.error("order not processable", { orderId: id, error: errorMessage(error) });
        return { outcome: "rejected", orderId: id, error: errorMessage(error) };
      }
      deps.log.warn("order failed", { orderId: id, requestId: context.awsRequestId, error: errorMessage(error) });
      return { outcome: "failed", orderId: id, error: errorMessage(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * SNS → Lambda (the study's Part III). One order per record; any failure
   * throws, so the platform's async retries (and then its DLQ) take over.
   */
  async function snsHandler(event: SNSEvent, context: Context): Promise<void> {
    const results = await Promise.all(
      event.Records.map((record) => handleOrderMessage(record.Sns.Message, `lambda:${record.Sns.MessageId}`, context)),
    );
    const failures = results.filter((r) => r.outcome === "failed");
    if (failures.length > 0) throw new OrderProcessingError(failures);
  }

  /**
   * SQS → Lambda with partial batch responses: only the records that failed
   * are reported, so the rest of the batch is deleted and not redelivered.
   * The body is an order message (raw delivery) or an SNS envelope around one.
   */
  async function sqsHandler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    const results = await Promise.all(
      event.Records.map(async (record) => {
        const result = await handleOrderMessage(unwrapSnsEnvelope(record.body), `lambda:${record.messageId}`, context);
        if (result.outcome === "failed") await giveUpIfLastReceive(record, result);
        return { record, result };
      }),
    );
    return {
      batchItemFailures: results
        .filter(({ result }) => result.outcome === "failed" || result.outcome === "dead")
        .map(({ record }) => ({ itemIdentifier: record.messageId })),
    };
  }

  /** On the last receive the queue allows, the order is marked dead; the redrive then moves its message. */
  async function giveUpIfLastReceive(record: SQSRecord, result: RecordResult): Promise<void> {
    const receives = Number(record.attributes.ApproximateReceiveCount ?? 1);
    if (receives < maxReceiveCount || !result.orderId) return;
    const reason = `gave up after ${receives} receives: ${result.error ?? "failed"}`;
    await deps.store.markDead(result.orderId, reason);
    result.outcome = "dead";
    deps.log.error("order dead-lettered", { orderId: result.orderId, reason });
  }

  return { snsHandler, sqsHandler, handleOrderMessage };
}

/** An SQS body from an SNS subscription without raw delivery is the SNS envelope: the order is its Message. */
export function unwrapSnsEnvelope(body: string): string {
  if (!body.startsWith("{") || !body.includes('"Notification"')) return body;
  try {
    const envelope = JSON.parse(body) as { Type?: unknown; Message?: unknown };
    return envelope.Type === "Notification" && typeof envelope.Message === "string" ? envelope.Message : body;
  } catch {
    return body;
  }
}
