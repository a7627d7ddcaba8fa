import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { createLogger, newOrderId, OrderQueue, type OrderStore, PAYMENT_FAULTS_SETTING } from "@surge/core";
import { createTestTopology, emulatorSuite, enqueueOrders, tempSqliteStore, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { createWorker, type WorkerDeps } from "../src/app.js";
import { CircuitBreaker } from "../src/circuit-breaker.js";
import type { ProcessedOutcome } from "../src/consumer.js";

const log = createLogger({ service: "test" }, { write: () => {} });

describe("worker task against the emulator and a real store", () => {
  const suite = emulatorSuite();
  const { cleanups } = suite;

  async function setup(options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {}) {
    const t = tempSqliteStore();
    cleanups.push(t.remove);
    const topology = await createTestTopology(suite.emulator, options);
    const queue = new OrderQueue(suite.emulator.clients.sqs, topology.queueUrl, topology.dlqUrl);
    const enqueue = (n: number) => enqueueOrders(t.store, suite.emulator, topology.queueUrl, n);
    return { store: t.store, queue, topology, enqueue };
  }

  function startWorker(store: OrderStore, queue: OrderQueue, overrides: Partial<WorkerDeps> = {}) {
    const worker = createWorker({
      store,
      queue,
      log,
      taskId: `task-${Math.random().toString(36).slice(2, 8)}`,
      concurrency: 5,
      payment: { slots: 5, durationMs: 50, failureRate: 0 },
      waitTimeSeconds: 1,
      ...overrides,
    });
    const outcomes: ProcessedOutcome[] = [];
    worker.consumer.on("processed", ({ outcome }) => outcomes.push(outcome));
    cleanups.push(() => worker.close(5000));
    return { worker, outcomes, started: worker.start(0, "127.0.0.1") };
  }

  it("pays every order once and deletes its message", async () => {
    const { store, queue, enqueue } = await setup();
    const ids = await enqueue(20);
    const { outcomes, started } = startWorker(store, queue);
    await started;
    await waitFor(() => outcomes.length === 20, { what: "20 orders settled" });
    expect(outcomes.every((o) => o === "paid")).toBe(true);
    for (const id of ids) expect((await store.getOrder(id))?.status).toBe("paid");
    expect(await store.reconcile()).toMatchObject({ charges: 20, paidTwice: 0 });
    expect(await queue.receive(10, 0)).toHaveLength(0);
  });

  it("keeps messages invisible while orders wait for slots: concurrency above the slots causes no redelivery", async () => {
    // 12 orders, 2 slots × 700 ms = 4.2 s of work, against a 2 s visibility timeout.
    const { store, queue, enqueue } = await setup({ visibilityTimeoutSeconds: 2 });
    await enqueue(12);
    const { worker, outcomes, started } = startWorker(store, queue, {
      concurrency: 12,
      payment: { slots: 2, durationMs: 700, failureRate: 0 },
      visibilityTimeoutSeconds: 2,
    });
    await started;
    let peakInFlight = 0;
    const watch = setInterval(() => {
      peakInFlight = Math.max(peakInFlight, worker.consumer.inFlight);
    }, 20);
    await waitFor(() => outcomes.length >= 12, { what: "12 orders settled", timeoutMs: 30_000 });
    clearInterval(watch);
    expect(peakInFlight).toBeGreaterThan(2); // more held than paying: the study's in-flight growth
    expect(worker.payments.slots).toBe(2);
    expect(outcomes.filter((o) => o !== "paid")).toEqual([]);
    expect(await store.reconcile()).toMatchObject({ charges: 12, paidTwice: 0 });
    const metrics = await worker.metrics.registry.metrics();
    expect(metrics).toMatch(/surge_worker_messages_received_total\{task="[^"]+"\} 12/);
  });

  it("retries a declined payment with backoff, then dead-letters it with the reason", async () => {
    const { store, queue, topology, enqueue } = await setup({ maxReceiveCount: 3 });
    const [id] = await enqueue(1);
    const { outcomes, started } = startWorker(store, queue, {
      payment: { slots: 5, durationMs: 10, failureRate: 1 },
      maxReceiveCount: 3,
      retryBaseDelaySeconds: 0,
    });
    await started;
    await waitFor(() => outcomes.includes("dead_lettered"), { what: "dead-lettered", timeoutMs: 30_000 });
    expect(outcomes).toEqual(["declined", "declined", "dead_lettered"]);
    const order = await store.getOrder(id ?? "");
    expect(order).toMatchObject({ status: "dead", attempts: 3 });
    expect(order?.lastError).toMatch(/gave up after 3 receives: payment declined/);
    const dlq = await suite.emulator.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: topology.dlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect(dlq.Messages).toHaveLength(1);
    expect(dlq.Messages?.[0]?.MessageAttributes?.orderId?.StringValue).toBe(id);
    expect(dlq.Messages?.[0]?.MessageAttributes?.reason?.StringValue).toMatch(/declined/);
    expect((await store.reconcile()).charges).toBe(0);
  });

  it("sends a poison message to the DLQ without crashing, and keeps working", async () => {
    const { store, queue, topology, enqueue } = await setup();
    await suite.emulator.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: topology.queueUrl, MessageBody: "{not json" }),
    );
    await suite.emulator.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: topology.queueUrl,
        MessageBody: JSON.stringify({ orderId: newOrderId(), acceptedAt: "x" }),
      }),
    );
    const { outcomes, started } = startWorker(store, queue);
    await started;
    await waitFor(() => outcomes.filter((o) => o === "dead_lettered").length === 2, { what: "2 poison messages" });
    const [id] = await enqueue(1);
    await waitFor(async () => (await store.getOrder(id ?? ""))?.status === "paid", { what: "next order paid" });
    const dlq = await suite.emulator.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: topology.dlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    const reasons = (dlq.Messages ?? []).map((m) => m.MessageAttributes?.reason?.StringValue);
    expect(reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/not JSON/), expect.stringMatching(/not in the store/)]),
    );
  });

  it("on close, finishes payments in progress and hands back orders still waiting for a slot", async () => {
    const { store, queue, enqueue } = await setup();
    const ids = await enqueue(6);
    const first = startWorker(store, queue, { concurrency: 6, payment: { slots: 2, durationMs: 600, failureRate: 0 } });
    await first.started;
    await waitFor(() => first.worker.consumer.inFlight === 6 && first.worker.payments.slotsInUse === 2, {
      what: "6 held, 2 paying",
    });
    await first.worker.close(5000);
    expect(first.outcomes.filter((o) => o === "paid")).toHaveLength(2);
    expect(first.outcomes.filter((o) => o === "released")).toHaveLength(4);
    expect((await store.countByStatus()).queued).toBe(4);
    // The released messages are visible again at once: a second task pays them.
    const second = startWorker(store, queue, { concurrency: 6 });
    await second.started;
    await waitFor(() => second.outcomes.length === 4, { what: "4 more paid" });
    for (const id of ids) expect((await store.getOrder(id))?.status).toBe("paid");
    expect(await store.reconcile()).toMatchObject({ charges: 6, paidTwice: 0 });
  });

  it("on close, lets the long poll in flight come back and hands back what it brought, visible at once", async () => {
    const { store, queue, topology, enqueue } = await setup({ visibilityTimeoutSeconds: 30 });
    const { worker, outcomes, started } = startWorker(store, queue, { waitTimeSeconds: 5 });
    const released: number[] = [];
    worker.consumer.on("released", ({ count }) => released.push(count));
    await started;
    await new Promise((r) => setTimeout(r, 300)); // the first long poll is out, on an empty queue
    const closing = worker.close(10_000);
    // An order arrives while the closing task's poll is still waiting: SQS hands it to that poll.
    const [id] = await enqueue(1);
    await closing;
    expect(released).toEqual([1]);
    expect(outcomes).toEqual([]);
    expect((await store.getOrder(id ?? ""))?.status).toBe("queued");
    // Visible again at once — not after the 30 s visibility timeout an aborted poll would cost.
    const out = await suite.emulator.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: topology.queueUrl,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    expect(out.Messages?.map((m) => JSON.parse(m.Body ?? "{}").orderId)).toEqual([id]);
    expect(out.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe("2");
  });

  it("validates concurrency changes and applies them live", async () => {
    const { store, queue } = await setup();
    const { worker, started } = startWorker(store, queue, { concurrency: 1 });
    await started;
    expect(() => {
      worker.consumer.concurrency = 0;
    }).toThrow(/1\.\.200/);
    expect(() => {
      worker.consumer.concurrency = 201;
    }).toThrow(RangeError);
    worker.consumer.concurrency = 20;
    expect(worker.consumer.concurrency).toBe(20);
    expect(await worker.metrics.registry.getSingleMetricAsString("surge_worker_concurrency")).toMatch(/ 20$/m);
  });

  it("opens its circuit during a payment processor outage: no orders burnt into the DLQ, all paid after recovery", async () => {
    const { store, queue, topology, enqueue } = await setup({ maxReceiveCount: 3 });
    await store.setSetting(PAYMENT_FAULTS_SETTING, { outageUntilMs: Date.now() + 3000 });
    const ids = await enqueue(10);
    const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 400, maxOpenMs: 800 });
    const states: string[] = [];
    breaker.on("change", ({ to }) => states.push(to));
    const { outcomes, started } = startWorker(store, queue, { breaker, maxReceiveCount: 3 });
    await started;
    await waitFor(() => states.includes("open"), { what: "circuit open" });
    await waitFor(async () => (await store.countByStatus()).paid === 10, {
      what: "10 paid after the outage",
      timeoutMs: 30_000,
    });
    expect(states.at(-1)).toBe("closed");
    expect(outcomes.filter((o) => o === "unavailable").length).toBeGreaterThanOrEqual(3);
    // The open circuit kept receives low: nothing reached the receive limit, nothing died.
    expect(outcomes).not.toContain("dead_lettered");
    expect(await queue.depth(topology.dlqUrl)).toMatchObject({ visible: 0 });
    for (const id of ids) expect((await store.getOrder(id))?.status).toBe("paid");
    expect(await store.reconcile()).toMatchObject({ charges: 10, paidTwice: 0 });
  });
});
