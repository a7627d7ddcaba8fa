import { validOrder, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { apiPerTest, OPS_TOKEN, postJson } from "./helpers.js";

describe("order API contract", () => {
  const ctx = apiPerTest();

  it("POST /orders/async answers 202 with Location only after the order is recorded, then publishes it", async () => {
    const res = await postJson(`${ctx.api.url}/orders/async`, validOrder());
    expect(res.status).toBe(202);
    const orderId = String(res.body.orderId);
    expect(res.body.status).toBe("queued");
    expect(res.headers.get("location")).toBe(`/orders/${orderId}`);
    expect(await ctx.t.store.getOrder(orderId)).toMatchObject({ status: "queued", mode: "async", totalCents: 3998 });
    // The relay publishes it to SNS → SQS and empties the outbox.
    const messages = await waitFor(async () => {
      const m = await ctx.api.queue.receive(10, 1);
      return m.length > 0 ? m : undefined;
    });
    expect(JSON.parse(messages?.[0]?.Body ?? "{}")).toMatchObject({ orderId });
    expect((await ctx.t.store.outboxStats()).pending).toBe(0);

    const view = await fetch(`${ctx.api.url}${res.headers.get("location")}`);
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ orderId, status: "queued", attempts: 0, acceptedAt: expect.any(String) });
  });

  it("a repeated idempotency key returns the first order and enqueues nothing new", async () => {
    const body = validOrder({ idempotencyKey: "checkout-123" });
    const a = await postJson(`${ctx.api.url}/orders/async`, body);
    const b = await postJson(`${ctx.api.url}/orders/async`, body);
    expect(b.status).toBe(202);
    expect(b.body.orderId).toBe(a.body.orderId);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect((await ctx.t.store.countByStatus()).queued).toBe(1);
  });

  it("POST /orders/sync waits for a payment slot, pays, and answers 200 paid", async () => {
    const res = await postJson(`${ctx.api.url}/orders/sync`, validOrder());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "paid", attempts: 1, chargeId: expect.stringMatching(/^ch_/) });
    const order = await ctx.t.store.getOrder(String(res.body.orderId));
    expect(order?.status).toBe("paid");
    expect((await ctx.t.store.reconcile()).charges).toBe(1);
  });

  const big = JSON.stringify(validOrder({ items: [{ productId: "x".repeat(70 * 1024), quantity: 1, price: 1 }] }));
  it.each([
    ["malformed JSON", '{"customerId": 1, "items": [', 400, "body"],
    ["wrong types", { customerId: "seven", items: "many" }, 400, "customerId"],
    ["0 items", validOrder({ items: [] }), 400, "items"],
    ["51 items", validOrder({ items: Array.from({ length: 51 }, () => validOrder().items[0]) }), 400, "items"],
    ["quantity 0", validOrder({ items: [{ productId: "a", quantity: 0, price: 1 }] }), 400, "items.0.quantity"],
    ["70 KB body", big, 413, "body"],
  ])("%s → %i naming %s, nothing recorded or enqueued", async (_name, body, status, field) => {
    for (const path of ["/orders/async", "/orders/sync"]) {
      const res = await postJson(`${ctx.api.url}${path}`, body);
      expect(res.status).toBe(status);
      expect(typeof res.body.error).toBe("string");
      expect((res.body.details as Array<{ field: string }>).map((d) => d.field)).toContain(field);
    }
    expect(await ctx.t.store.reconcile()).toMatchObject({ accepted: 0, outboxPending: 0 });
    expect(await ctx.api.queue.receive(10, 0)).toHaveLength(0);
  });

  it("refuses a body that is not JSON with 415", async () => {
    const res = await fetch(`${ctx.api.url}/orders/async`, { method: "POST", body: "customerId=1" });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: expect.stringContaining("application/json") });
  });

  it("GET /orders/:id is 404 for an unknown order and 400 for a malformed id", async () => {
    expect((await fetch(`${ctx.api.url}/orders/01a21751-2dd7-7b6f-b9da-0c880b9dad3f`)).status).toBe(404);
    expect((await fetch(`${ctx.api.url}/orders/abc`)).status).toBe(400);
  });

  it("/health is 200 when store and queue answer, 503 naming the queue when it does not", async () => {
    const ok = await fetch(`${ctx.api.url}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "ok", store: "ok", queue: "ok" });
    ctx.emulator.server.deleteQueue(ctx.api.topology.names.queue);
    const down = await fetch(`${ctx.api.url}/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: "unavailable", store: "ok", queue: "failing" });
  });

  it("/ops/ needs the operator token", async () => {
    expect((await fetch(`${ctx.api.url}/ops/orders/reconcile`)).status).toBe(401);
    const wrong = await fetch(`${ctx.api.url}/ops/orders/reconcile`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${ctx.api.url}/ops/orders/reconcile`, {
      headers: { authorization: `Bearer ${OPS_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, paidTwice: 0 });
  });

  it("/metrics counts accepted and rejected orders and request latency by route template", async () => {
    await postJson(`${ctx.api.url}/orders/async`, validOrder());
    await postJson(`${ctx.api.url}/orders/async`, validOrder({ items: [] }));
    const text = await (await fetch(`${ctx.api.url}/metrics`)).text();
    expect(text).toMatch(/^surge_orders_accepted_total\{mode="async"\} 1$/m);
    expect(text).toMatch(/^surge_orders_rejected_total\{reason="validation"\} 1$/m);
    expect(text).toMatch(
      /surge_http_request_duration_seconds_count\{method="POST",route="\/orders\/async",status="202"\} 1/,
    );
    expect(text).toMatch(/^surge_payment_slots 5$/m);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-7/); // no order id ever becomes a label
  });
});
