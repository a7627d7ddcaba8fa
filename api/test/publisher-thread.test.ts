import { OrderQueue, type PublishEntry } from "@surge/core";
import { createTestTopology, type Emulator, startEmulator, tempSqliteStore, validOrder, waitFor } from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PublisherThread } from "../src/outbox/publisher-thread.js";
import { postJson, startTestApi } from "./helpers.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

async function drain(queue: OrderQueue, expected: number): Promise<string[]> {
  const bodies: string[] = [];
  await waitFor(async () => {
    for (const m of await queue.receive(10, 0)) bodies.push(m.Body ?? "");
    return bodies.length >= expected;
  });
  return bodies;
}

describe("PublisherThread", () => {
  it("publishes through a real SNS client on its own thread: every message reaches the queue", async () => {
    const topology = await createTestTopology(emulator);
    const queue = new OrderQueue(emulator.clients.sqs, topology.queueUrl, topology.dlqUrl);
    const thread = new PublisherThread({ topicArn: topology.topicArn, env: emulator.env });
    try {
      const entries: PublishEntry[] = Array.from({ length: 10 }, (_, i) => ({
        id: String(100 + i),
        message: JSON.stringify({ orderId: `order-${i}`, acceptedAt: new Date().toISOString() }),
        target: "workers",
      }));
      // Two calls at once share the one thread.
      const [first, second] = await Promise.all([
        thread.publishBatch(entries.slice(0, 5)),
        thread.publishBatch(entries.slice(5)),
      ]);
      expect([...(first ?? []), ...(second ?? [])].sort()).toEqual(entries.map((e) => e.id));
      expect((await drain(queue, 10)).sort()).toEqual(entries.map((e) => e.message).sort());
      expect(thread.started).toBe(1);
    } finally {
      await thread.close();
    }
  });

  it("hands SNS's refusal back as a rejection with the SDK's error name, and keeps serving", async () => {
    const topology = await createTestTopology(emulator);
    const missing = new PublisherThread({ topicArn: `${topology.topicArn}-missing`, env: emulator.env });
    try {
      const error = await missing.publishBatch([{ id: "1", message: "{}" }]).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error?.name).toMatch(/NotFound/);
      expect(error?.message).toMatch(/topic/i);
      await expect(missing.publishBatch([{ id: "2", message: "{}" }])).rejects.toThrow(/topic/i);
      expect(missing.started).toBe(1);
    } finally {
      await missing.close();
    }
  });

  it("fails the calls in flight when its thread dies, and starts a new thread for the next call", async () => {
    const dying = new PublisherThread({
      topicArn: "arn:aws:sns:us-east-1:000000000000:unused",
      entry: new URL("./fixtures/dying-publisher-thread.ts", import.meta.url),
    });
    try {
      const calls = [
        dying.publishBatch([{ id: "1", message: "{}" }]),
        dying.publishBatch([{ id: "2", message: "{}" }]),
      ];
      for (const call of calls) await expect(call).rejects.toThrow("publisher thread exited with code 1");
      await expect(dying.publishBatch([{ id: "3", message: "{}" }])).rejects.toThrow("exited with code 1");
      expect(dying.started).toBe(2);
    } finally {
      await dying.close();
    }
  });

  it("refuses calls once closed", async () => {
    const topology = await createTestTopology(emulator);
    const thread = new PublisherThread({ topicArn: topology.topicArn, env: emulator.env });
    await thread.publishBatch([{ id: "1", message: "{}" }]);
    await thread.close();
    await expect(thread.publishBatch([{ id: "2", message: "{}" }])).rejects.toThrow("publisher thread closed");
  });

  it("carries the API's accepted orders to the queue, wired as api/src/main.ts wires it", async () => {
    const sqlite = tempSqliteStore();
    const topology = await createTestTopology(emulator);
    const thread = new PublisherThread({ topicArn: topology.topicArn, env: emulator.env });
    const api = await startTestApi(sqlite.store, emulator, { topic: thread });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) {
        const res = await postJson(`${api.url}/orders/async`, validOrder({ customerId: 500 + i }));
        expect(res.status).toBe(202);
        ids.push(String(res.body.orderId));
      }
      const queue = new OrderQueue(emulator.clients.sqs, topology.queueUrl, topology.dlqUrl);
      const bodies = await drain(queue, 25);
      expect(bodies.map((b) => (JSON.parse(b) as { orderId: string }).orderId).sort()).toEqual(ids.sort());
      await waitFor(async () => (await sqlite.store.outboxStats()).pending === 0);
    } finally {
      await api.close();
      await thread.close();
      await sqlite.remove();
    }
  });
});
