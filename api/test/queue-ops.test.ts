import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { validOrder, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { apiPerTest, OPS_TOKEN, postJson } from "./helpers.js";

const auth = { authorization: `Bearer ${OPS_TOKEN}` };

describe("/ops queue, DLQ, redrive and purge", () => {
  const ctx = apiPerTest();

  const get = async (path: string) => {
    const res = await fetch(`${ctx.api.url}${path}`, { headers: auth });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** An accepted order whose message ended in the DLQ the way the worker puts it there. */
  const deadOrder = async () => {
    const { body } = await postJson(`${ctx.api.url}/orders/async`, validOrder());
    const orderId = String(body.orderId);
    await waitFor(async () => (await ctx.t.store.outboxStats()).pending === 0, { what: "published" });
    await ctx.api.queue.receive(10, 1); // take it off the main queue
    await ctx.t.store.markDead(orderId, "gave up after 5 receives: payment declined");
    await ctx.api.queue.sendToDlq(
      JSON.stringify({ orderId, acceptedAt: new Date().toISOString() }),
      "gave up after 5 receives: payment declined",
      orderId,
    );
    return orderId;
  };

  it("the state snapshot has the queue section with exact store figures", async () => {
    await postJson(`${ctx.api.url}/orders/async`, validOrder());
    const { body } = await get("/ops/state");
    expect(body.queue).toMatchObject({
      backlog: 1,
      orders: { queued: 1 },
      dlq: 0,
      oldestAgeSeconds: expect.any(Number),
    });
  });

  it("lists dead letters with their order and reason, poison messages included, and leaves them in place", async () => {
    const orderId = await deadOrder();
    await ctx.emulator.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: ctx.api.topology.dlqUrl, MessageBody: "%%garbage" }),
    );
    const first = await get("/ops/dlq");
    expect(first.status).toBe(200);
    const messages = first.body.messages as Array<Record<string, unknown>>;
    expect(messages).toHaveLength(2);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          orderId,
          reason: expect.stringMatching(/declined/),
          order: expect.objectContaining({ status: "dead" }),
        }),
        expect.objectContaining({ body: "%%garbage" }),
      ]),
    );
    expect(JSON.stringify(messages)).not.toMatch(/receiptHandle/);
    // Peeking consumed nothing.
    expect(((await get("/ops/dlq")).body.messages as unknown[]).length).toBe(2);
  });

  it("explains an order SQS moved to the DLQ by itself, marking it dead", async () => {
    const { body } = await postJson(`${ctx.api.url}/orders/async`, validOrder());
    const orderId = String(body.orderId);
    await ctx.emulator.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: ctx.api.topology.dlqUrl,
        MessageBody: JSON.stringify({ orderId, acceptedAt: "x" }),
      }),
    );
    await get("/ops/dlq");
    expect(await ctx.t.store.getOrder(orderId)).toMatchObject({
      status: "dead",
      lastError: expect.stringMatching(/redrive policy/),
    });
  });

  it("explains and redrives an order whose Lambda event failed every attempt (Lambda's DLQ message, as AWS writes it)", async () => {
    const { body } = await postJson(`${ctx.api.url}/orders/async`, validOrder());
    const orderId = String(body.orderId);
    await waitFor(async () => (await ctx.t.store.outboxStats()).pending === 0, { what: "published" });
    await ctx.api.queue.receive(10, 1); // as if routed to Lambda: not on the workers' queue
    const message = JSON.stringify({ orderId, acceptedAt: new Date().toISOString() });
    // What Lambda sends its dead-letter queue: the SNS event unchanged, the failure in attributes.
    const event = {
      Records: [
        {
          EventSource: "aws:sns",
          EventVersion: "1.0",
          EventSubscriptionArn: "arn:aws:sns:us-east-1:123456789012:surge-dev-orders:2bcfbf39",
          Sns: {
            Type: "Notification",
            MessageId: "95df01b4",
            TopicArn: "arn:aws:sns:us-east-1:123456789012:surge-dev-orders",
            Message: message,
          },
        },
      ],
    };
    await ctx.emulator.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: ctx.api.topology.dlqUrl,
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          RequestID: { DataType: "String", StringValue: "9d1ea4b4-0a9c-4ba2-a3b0-3e1b2f7b8c01" },
          ErrorCode: { DataType: "Number", StringValue: "200" },
          ErrorMessage: { DataType: "String", StringValue: "payment processor unavailable" },
        },
      }),
    );
    // And what SNS sends the subscription's dead-letter queue when it cannot invoke the function.
    const other = String((await postJson(`${ctx.api.url}/orders/async`, validOrder())).body.orderId);
    await waitFor(async () => (await ctx.t.store.outboxStats()).pending === 0, { what: "published" });
    await ctx.api.queue.receive(10, 1);
    await ctx.emulator.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: ctx.api.topology.dlqUrl,
        MessageBody: JSON.stringify({
          Type: "Notification",
          MessageId: "7c1b",
          Message: JSON.stringify({ orderId: other, acceptedAt: "x" }),
        }),
      }),
    );

    const letters = (await get("/ops/dlq")).body.messages as Array<{ orderId?: string; reason: string }>;
    expect(letters.find((l) => l.orderId === orderId)?.reason).toBe(
      "Lambda gave up after its retries (200): payment processor unavailable",
    );
    expect(letters.find((l) => l.orderId === other)?.reason).toBe("SNS could not deliver it to the Lambda function");
    expect(await ctx.t.store.getOrder(orderId)).toMatchObject({
      status: "dead",
      lastError: "Lambda gave up after its retries (200): payment processor unavailable",
    });
    expect((await ctx.t.store.getOrder(other))?.status).toBe("dead");

    const res = await postJson(`${ctx.api.url}/ops/dlq/redrive`, { orderIds: [orderId, other] }, auth);
    expect(res.body).toMatchObject({ redriven: 2, skipped: [] });
    expect((await ctx.t.store.getOrder(orderId))?.status).toBe("queued");
    expect((await get("/ops/dlq")).body.messages).toEqual([]);
  });

  it("redrives the selected order: queued again, republished, its dead letter deleted, audited", async () => {
    const keep = await deadOrder();
    const redrive = await deadOrder();
    const res = await postJson(`${ctx.api.url}/ops/dlq/redrive`, { orderIds: [redrive] }, auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ redriven: 1, orderIds: [redrive], skipped: [] });
    expect((await ctx.t.store.getOrder(redrive))?.status).toBe("queued");
    expect((await ctx.t.store.getOrder(keep))?.status).toBe("dead");
    const republished = await waitFor(async () => {
      const m = await ctx.api.queue.receive(10, 1);
      return m.find((x) => JSON.parse(x.Body ?? "{}").orderId === redrive);
    });
    expect(republished).toBeDefined();
    const left = (await get("/ops/dlq")).body.messages as Array<{ orderId?: string }>;
    expect(left.map((m) => m.orderId)).toEqual([keep]);
    const audit = (await get("/ops/audit?action=dlq")).body.entries as Array<Record<string, unknown>>;
    expect(audit[0]).toMatchObject({ actor: "test-operator", action: "dlq.redrive", after: { redriven: 1 } });
  });

  it("redrive validates its body", async () => {
    const res = await postJson(`${ctx.api.url}/ops/dlq/redrive`, { orderIds: "all" }, auth);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: "orderIds" })]);
  });

  it("purge needs the typed confirmation, and leaves every purged order dead and explained", async () => {
    const refused = await postJson(`${ctx.api.url}/ops/queue/purge`, { confirm: "yes" }, auth);
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([expect.objectContaining({ field: "confirm" })]);
    for (let i = 0; i < 3; i++) await postJson(`${ctx.api.url}/orders/async`, validOrder());
    await waitFor(async () => (await ctx.t.store.outboxStats()).pending === 0, { what: "published" });
    const res = await postJson(`${ctx.api.url}/ops/queue/purge`, { confirm: "purge" }, auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ purged: "orders", ordersMarkedDead: 3 });
    expect(await ctx.api.queue.receive(10, 0)).toHaveLength(0);
    const r = await ctx.t.store.reconcile();
    expect(r).toMatchObject({ inProgress: 0, deadUnexplained: 0 });
    expect(r.byStatus.dead).toBe(3);
    // And they can be brought back.
    const back = await postJson(`${ctx.api.url}/ops/dlq/redrive`, {}, auth);
    expect(back.body.redriven).toBe(3);
  });

  it("every queue route needs the token", async () => {
    for (const [method, path] of [
      ["GET", "/ops/dlq"],
      ["POST", "/ops/dlq/redrive"],
      ["POST", "/ops/queue/purge"],
    ] as const) {
      expect((await fetch(`${ctx.api.url}${path}`, { method })).status).toBe(401);
    }
  });
});
