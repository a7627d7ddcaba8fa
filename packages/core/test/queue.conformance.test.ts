import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { BROKERS, type Broker, brokerSuite, createTestTopology, uniqueName, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import {
  ensureTopology,
  newOrderId,
  OrderQueue,
  OrderTopic,
  type PublishEntry,
  resolveTopology,
  withHeartbeat,
} from "../src/index.js";

type Message = Awaited<ReturnType<OrderQueue["receive"]>>[number];

const orderMessage = (orderId = newOrderId()) => JSON.stringify({ orderId, acceptedAt: new Date().toISOString() });

/** Receives until `count` messages came or the time runs out (SNS → SQS fan-out is asynchronous). */
async function receiveAll(queue: OrderQueue, count: number, timeoutMs = 15_000): Promise<Message[]> {
  const got = new Map<string, Message>();
  await waitFor(
    async () => {
      for (const m of await queue.receive(10, 1)) if (m.MessageId) got.set(m.MessageId, m);
      return got.size >= count;
    },
    { timeoutMs, intervalMs: 0, what: `${count} messages (have ${got.size})` },
  );
  return [...got.values()];
}

// One suite, both brokers: fauxqs (the default emulator) and moto (a second, independent
// implementation of the SNS/SQS wire protocols). Every test makes its own topic and queues.
describe.each(BROKERS)("queue conformance: %s", (name) => {
  const suite = brokerSuite(name);
  const topologyOn = (broker: Broker, options: Parameters<typeof createTestTopology>[1] = {}) =>
    createTestTopology(broker, { visibilityTimeoutSeconds: 30, ...options });

  it("ensureTopology: DLQ, redrive policy, visibility, raw subscription; idempotent; resolvable by name", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker, { maxReceiveCount: 4, visibilityTimeoutSeconds: 7 });
    const attrs = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: t.queueUrl, AttributeNames: ["All"] }),
    );
    const dlqArn = (
      await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: t.dlqUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes?.QueueArn;
    expect(attrs.Attributes?.VisibilityTimeout).toBe("7");
    expect(JSON.parse(attrs.Attributes?.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: 4,
    });
    const subs = await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t.topicArn }));
    expect(subs.Subscriptions?.map((s) => s.Endpoint)).toEqual([attrs.Attributes?.QueueArn]);
    const sub = await clients.sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: subs.Subscriptions?.[0]?.SubscriptionArn }),
    );
    expect(sub.Attributes?.RawMessageDelivery).toBe("true");

    // A second run (npm start again against the same broker) finds the same resources.
    const again = await ensureTopology(clients, t.names, { maxReceiveCount: 4, visibilityTimeoutSeconds: 7 });
    expect(again).toEqual({ topicArn: t.topicArn, queueUrl: t.queueUrl, dlqUrl: t.dlqUrl });
    const after = await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t.topicArn }));
    expect(after.Subscriptions).toHaveLength(1);
    // The worker resolves them by name and never creates anything.
    expect(await resolveTopology(clients, { ...t.names, topicArn: t.topicArn })).toEqual(again);
    await expect(resolveTopology(clients, { ...t.names, queue: uniqueName("absent") })).rejects.toThrow();
  });

  it("publishes a batch through SNS and the queue receives every message raw, once", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker);
    const topic = new OrderTopic(clients.sns, t.topicArn);
    const entries: PublishEntry[] = Array.from({ length: 23 }, (_, i) => ({
      id: `e${i}`,
      message: orderMessage(),
      ...(i % 2 === 0 && { target: "workers" as const }),
    }));
    const accepted = await topic.publishBatch(entries);
    expect([...accepted].sort()).toEqual(entries.map((e) => e.id).sort());

    const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
    const messages = await receiveAll(queue, entries.length);
    // Raw delivery: the body is the order message itself, not an SNS envelope.
    expect(messages.map((m) => m.Body).sort()).toEqual(entries.map((e) => e.message).sort());
    for (const m of messages) {
      expect(m.Attributes?.ApproximateReceiveCount).toBe("1");
      expect(Number(m.Attributes?.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    }
    await queue.deleteBatch(messages.map((m) => m.ReceiptHandle ?? ""));
    expect(await queue.receive(10, 1)).toEqual([]);
  });

  it("routes on the target attribute: workers and unrouted to the orders queue, lambda to its queue as envelopes", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker, { lambdaQueue: true });
    const lambdaUrl = t.lambdaQueueUrl;
    if (!lambdaUrl) throw new Error("ensureTopology returned no Lambda queue");
    const routed = {
      workers: orderMessage(),
      unrouted: orderMessage(),
      lambda: orderMessage(),
    };
    const accepted = await new OrderTopic(clients.sns, t.topicArn).publishBatch([
      { id: "w", message: routed.workers, target: "workers" },
      { id: "u", message: routed.unrouted },
      { id: "l", message: routed.lambda, target: "lambda" },
    ]);
    expect(accepted.size).toBe(3);
    const workers = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
    const lambda = new OrderQueue(clients.sqs, lambdaUrl, t.dlqUrl);
    expect((await receiveAll(workers, 2)).map((m) => m.Body).sort()).toEqual([routed.workers, routed.unrouted].sort());
    const [envelope, ...more] = await receiveAll(lambda, 1);
    expect(more).toEqual([]);
    expect(JSON.parse(envelope?.Body ?? "{}")).toMatchObject({ Type: "Notification", Message: routed.lambda });
    // Nothing else arrives on either queue.
    expect(await workers.receive(10, 1)).toEqual([]);
    expect(await lambda.receive(10, 0)).toEqual([]);
  });

  it("receive takes at most ten; depth counts visible and in flight", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker);
    await new OrderTopic(clients.sns, t.topicArn).publishBatch(
      Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, message: orderMessage() })),
    );
    const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
    await waitFor(async () => (await queue.depth()).visible === 12, { what: "12 messages delivered" });
    const first = await queue.receive(50, 1);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThanOrEqual(10);
    const rest = await receiveAll(queue, 12 - first.length);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 12, delayed: 0 });
    await queue.deleteBatch([...first, ...rest].map((m) => m.ReceiptHandle ?? ""));
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it("a heartbeat extends the visibility; released, the message comes back at once", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker, { visibilityTimeoutSeconds: 2 });
    await new OrderTopic(clients.sns, t.topicArn).publishBatch([{ id: "1", message: orderMessage() }]);
    const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
    const [held] = await receiveAll(queue, 1);
    const handle = held?.ReceiptHandle ?? "";
    // The worker's heartbeat: a third of the timeout, extending by the whole timeout, for 2× the timeout.
    const stolen: Message[] = [];
    await withHeartbeat(
      700,
      () => queue.changeVisibility(handle, 2),
      async () => {
        const until = Date.now() + 4_000;
        while (Date.now() < until) stolen.push(...(await queue.receive(10, 1)));
      },
    );
    expect(stolen).toEqual([]);
    // Without the heartbeat it comes back after the timeout, received a second time.
    const [again] = await receiveAll(queue, 1, 10_000);
    expect(again?.MessageId).toBe(held?.MessageId);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe("2");
    // Released (a closing task hands it back): visible again at once.
    await queue.changeVisibility(again?.ReceiptHandle ?? "", 0);
    const [third] = await queue.receive(10, 0);
    expect(third?.MessageId).toBe(held?.MessageId);
    await queue.delete(third?.ReceiptHandle ?? "");
    expect(await queue.receive(10, 0)).toEqual([]);
  });

  it("redrives to the DLQ after maxReceiveCount, and the DLQ reads without consuming", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker, { maxReceiveCount: 2 });
    const orderId = newOrderId();
    const body = orderMessage(orderId);
    await new OrderTopic(clients.sns, t.topicArn).publishBatch([{ id: "1", message: body }]);
    const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
    for (const count of ["1", "2"]) {
      const [m] = await receiveAll(queue, 1);
      expect(m?.Attributes?.ApproximateReceiveCount).toBe(count);
      await queue.changeVisibility(m?.ReceiptHandle ?? "", 0); // a failed attempt, back at once
    }
    // The third receive finds it gone: SQS moved it to the DLQ.
    expect(await queue.receive(10, 1)).toEqual([]);
    const letters = await waitFor(async () => {
      const found = await queue.peekDlq();
      return found.length > 0 ? found : undefined;
    });
    expect(letters).toEqual([
      expect.objectContaining({
        body,
        orderId,
        reason: "moved by the queue's redrive policy (maxReceiveCount)",
      }),
    ]);
    // Peeking consumed nothing.
    expect((await queue.peekDlq()).map((l) => l.messageId)).toEqual([letters[0]?.messageId]);
  });

  it("a worker's dead letter carries its reason; scan, delete one, release the rest; purge", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker);
    const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
    const [a, b] = [newOrderId(), newOrderId()];
    await queue.sendToDlq(orderMessage(a), "declined: card expired", a);
    await queue.sendToDlq("%%poison", "not an order message");
    await queue.sendToDlq(orderMessage(b), "gave up after 5 receives: processor down", b);

    const scan = await queue.scanDlq();
    expect(scan.letters.map((l) => [l.orderId, l.reason]).sort()).toEqual(
      [
        [a, "declined: card expired"],
        [undefined, "not an order message"],
        [b, "gave up after 5 receives: processor down"],
      ].sort(),
    );
    for (const letter of scan.letters) expect(Date.parse(letter.sentAt)).toBeGreaterThan(Date.now() - 60_000);
    const redriven = scan.letters.find((l) => l.orderId === a);
    if (!redriven) throw new Error("order a is not in the DLQ");
    await queue.deleteFromDlq(redriven.receiptHandle);
    await scan.release(new Set([redriven.receiptHandle]));
    expect((await queue.peekDlq()).map((l) => l.orderId ?? "poison").sort()).toEqual([b, "poison"].sort());

    await queue.purge("dlq");
    await waitFor(async () => (await queue.peekDlq()).length === 0, { what: "the DLQ purged" });
  });
  it("an aborted long poll still takes the message that arrives: it comes back, received twice", async () => {
    const { clients } = suite.broker;
    const t = await topologyOn(suite.broker, { visibilityTimeoutSeconds: 1 });
    const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
    const abort = new AbortController();
    const poll = queue.receive(10, 3, abort.signal);
    setTimeout(() => abort.abort(new Error("consumer closing")), 200);
    await expect(poll).rejects.toThrow();
    // The broker still holds the poll open and hands it the message, which nobody reads.
    await new OrderTopic(clients.sns, t.topicArn).publishBatch([{ id: "1", message: orderMessage() }]);
    const [back] = await receiveAll(queue, 1, 10_000);
    expect(back?.Attributes?.ApproximateReceiveCount).toBe("2");
  });

  it("lenient where SQS is strict: a second purge at once, a message over 256 KiB", async () => {
    const t = await topologyOn(suite.broker);
    const queue = new OrderQueue(suite.broker.clients.sqs, t.queueUrl, t.dlqUrl);
    await queue.purge("dlq");
    await queue.purge("dlq"); // SQS: PurgeQueueInProgress within 60 s
    await queue.sendToDlq("x".repeat(300 * 1024), "too long for SQS");
    expect((await queue.peekDlq()).map((l) => l.body.length)).toEqual([300 * 1024]);
  });

  // Where the two answer differently, pinned so docs/testing.md#two-brokers stays true. Surge's code
  // relies on neither side of a difference.
  describe("where fauxqs and moto differ", () => {
    it("a stale receipt handle: fauxqs (as SQS) ignores its delete and refuses its extension; moto honours both", async () => {
      const { clients } = suite.broker;
      const t = await topologyOn(suite.broker, { visibilityTimeoutSeconds: 1 });
      await new OrderTopic(clients.sns, t.topicArn).publishBatch([{ id: "1", message: orderMessage() }]);
      const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
      const [first] = await receiveAll(queue, 1);
      const [second] = await receiveAll(queue, 1, 5_000); // after the 1 s visibility ran out
      expect(second?.MessageId).toBe(first?.MessageId);
      await queue.changeVisibility(second?.ReceiptHandle ?? "", 60);
      const stale = first?.ReceiptHandle ?? "";
      if (name === "fauxqs") {
        await expect(queue.changeVisibility(stale, 0)).rejects.toMatchObject({ name: "MessageNotInflight" });
        await queue.delete(stale); // accepted, and the message stays with its holder
        await queue.changeVisibility(second?.ReceiptHandle ?? "", 0);
        expect((await queue.receive(10, 1)).map((m) => m.MessageId)).toEqual([first?.MessageId]);
      } else {
        await queue.changeVisibility(stale, 0); // releases the message its new holder has
        const [third] = await queue.receive(10, 1);
        expect(third?.MessageId).toBe(first?.MessageId);
        await queue.delete(stale); // deletes the message, whoever holds it now
        await expect(queue.changeVisibility(third?.ReceiptHandle ?? "", 0)).rejects.toMatchObject({
          name: "ReceiptHandleIsInvalid",
        });
        expect(await queue.receive(10, 1)).toEqual([]);
      }
    });

    it("a receipt handle SQS never issued: fauxqs accepts its delete, moto refuses it", async () => {
      const t = await topologyOn(suite.broker);
      const queue = new OrderQueue(suite.broker.clients.sqs, t.queueUrl, t.dlqUrl);
      if (name === "fauxqs") await queue.delete("not-a-handle");
      else await expect(queue.delete("not-a-handle")).rejects.toMatchObject({ name: "ReceiptHandleIsInvalid" });
    });

    it("queue counters: fauxqs notices an expired visibility on the next ReceiveMessage, moto at once", async () => {
      const { clients } = suite.broker;
      const t = await topologyOn(suite.broker, { visibilityTimeoutSeconds: 1 });
      await new OrderTopic(clients.sns, t.topicArn).publishBatch(
        Array.from({ length: 3 }, (_, i) => ({ id: `m${i}`, message: orderMessage() })),
      );
      const queue = new OrderQueue(clients.sqs, t.queueUrl, t.dlqUrl);
      await receiveAll(queue, 3);
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: 3, delayed: 0 });
      await new Promise((r) => setTimeout(r, 1_500)); // the visibility runs out
      expect(await queue.depth()).toEqual(
        name === "fauxqs" ? { visible: 0, inFlight: 3, delayed: 0 } : { visible: 3, inFlight: 0, delayed: 0 },
      );
      expect((await queue.receive(1, 0)).length).toBe(1);
      expect(await queue.depth()).toEqual({ visible: 2, inFlight: 1, delayed: 0 });
    });

    it("PublishBatch: moto (as SNS) refuses repeated Ids and takes an empty message; fauxqs the other way round", async () => {
      const { clients } = suite.broker;
      const t = await topologyOn(suite.broker);
      const topic = new OrderTopic(clients.sns, t.topicArn);
      const repeated = topic.publishBatch([
        { id: "a", message: orderMessage() },
        { id: "a", message: orderMessage() },
      ]);
      if (name === "moto") await expect(repeated).rejects.toMatchObject({ name: "BatchEntryIdsNotDistinctException" });
      else expect(await repeated).toEqual(new Set(["a"]));
      // Too long is refused by both, in the batch's Failed list: the relay keeps that entry.
      expect(
        await topic.publishBatch([
          { id: "empty", message: "" },
          { id: "long", message: "x".repeat(300_000) },
          { id: "ok", message: orderMessage() },
        ]),
      ).toEqual(new Set(name === "moto" ? ["empty", "ok"] : ["ok"]));
    });

    it("queue URLs and ARNs: each names its own account and host, so they come from CreateQueue/GetQueueUrl", async () => {
      const t = await topologyOn(suite.broker);
      const account = name === "fauxqs" ? "000000000000" : "123456789012";
      expect(t.topicArn).toBe(`arn:aws:sns:us-east-1:${account}:${t.names.topic}`);
      const host = name === "fauxqs" ? "sqs.us-east-1.localhost" : "127.0.0.1";
      expect(new URL(t.queueUrl).hostname).toBe(host);
      expect(new URL(t.queueUrl).pathname).toBe(`/${account}/${t.names.queue}`);
    });
  });
});
