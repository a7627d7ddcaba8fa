import { createLogger, OrderQueue } from "@surge/core";
import { BROKERS, brokerSuite, createTestTopology, enqueueOrders, tempSqliteStore, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { createWorker } from "../src/app.js";
import type { ProcessedOutcome } from "../src/consumer.js";

const log = createLogger({ service: "test" }, { write: () => {} });

// Where fauxqs and moto answer the consumer differently (docs/testing.md#two-brokers).
describe.each(BROKERS)("worker consumer where the brokers differ: %s", (name) => {
  const suite = brokerSuite(name);
  const { cleanups } = suite;

  it("an order paid while its message was received again is charged once, whichever copy SQS keeps", async () => {
    const t = tempSqliteStore();
    cleanups.push(t.remove);
    // The queue hides a message for 1 s; the task believes 30 s, so its first heartbeat comes after
    // 10 s and the 2.5 s payment outlives the visibility: the message is received again meanwhile.
    const topology = await createTestTopology(suite.broker, { visibilityTimeoutSeconds: 1 });
    const queue = new OrderQueue(suite.broker.clients.sqs, topology.queueUrl, topology.dlqUrl);
    const [orderId] = await enqueueOrders(t.store, suite.broker, topology.queueUrl, 1);
    const worker = createWorker({
      store: t.store,
      queue,
      log,
      taskId: "task-slow",
      concurrency: 1,
      payment: { slots: 1, durationMs: 2_500, failureRate: 0 },
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 30,
      // Its last receive: a failure here would dead-letter the order.
      maxReceiveCount: 1,
    });
    const outcomes: ProcessedOutcome[] = [];
    const errors: string[] = [];
    worker.consumer.on("processed", ({ outcome }) => outcomes.push(outcome));
    worker.consumer.on("error", ({ where }) => errors.push(where));
    cleanups.push(() => worker.close(5_000));
    await worker.start(0, "127.0.0.1");

    await waitFor(() => worker.consumer.inFlight === 1, { what: "the order in flight" });
    // Another receiver takes the message after its visibility ran out, and holds it: the task's
    // receipt handle is now stale.
    const [again] = await waitFor(async () => {
      const got = await queue.receive(1, 1);
      return got.length > 0 ? got : undefined;
    });
    expect(again?.Attributes?.ApproximateReceiveCount).toBe("2");
    await queue.changeVisibility(again?.ReceiptHandle ?? "", 60);

    await waitFor(() => outcomes.length === 1, { what: "the order settled", timeoutMs: 10_000 });
    expect(outcomes).toEqual(["paid"]);
    expect(errors).toEqual([]);
    // The task deleted with its stale handle. SQS and fauxqs accept that and keep the message, which
    // comes back to a task that finds the order paid (a duplicate) and deletes it; moto deletes the
    // message with any handle it ever had (docs/testing.md#two-brokers).
    if (name === "moto") {
      await expect(queue.changeVisibility(again?.ReceiptHandle ?? "", 0)).rejects.toThrow(/receipt handle is invalid/i);
    } else {
      await queue.changeVisibility(again?.ReceiptHandle ?? "", 0);
      await waitFor(() => outcomes.length === 2, { what: "the copy settled" });
      expect(outcomes).toEqual(["paid", "duplicate"]);
    }
    expect(await queue.receive(10, 1)).toEqual([]);
    expect(await t.store.getOrder(orderId ?? "")).toMatchObject({ status: "paid", attempts: 1 });
    expect(await t.store.reconcile()).toMatchObject({ charges: 1, paidTwice: 0 });
    expect(await queue.peekDlq()).toEqual([]);
  });
});
