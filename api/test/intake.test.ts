import { newOrderId, type OrderStore, PaymentProcessor } from "@surge/core";
import { type Emulator, startEmulator, tempSqliteStore, validOrder } from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AdmissionControl,
  decideAsync,
  decideSync,
  type IntakeSettings,
  measurementWindowSeconds,
  projectWait,
} from "../src/ops/modules/intake.js";
import { OPS_TOKEN, postJson, startTestApi } from "./helpers.js";

const auth = { authorization: `Bearer ${OPS_TOKEN}` };
const READ_ONLY = "read-only-token-0123456789abc";
const put = (url: string, body: unknown, token = OPS_TOKEN) =>
  fetch(`${url}/ops/intake`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const limit = (seconds: number): IntakeSettings => ({ mode: "limit", maxProjectedWaitSeconds: seconds });

describe("admission control: the projection", () => {
  it("projects backlog ÷ measured drain rate, 0 without a backlog, unknown when nothing was paid", () => {
    expect(projectWait({ backlog: 150, paidInWindow: 50, windowSeconds: 10, oldestWaitingSeconds: 40 })).toMatchObject({
      drainPerSecond: 5,
      projectedWaitSeconds: 30,
    });
    expect(projectWait({ backlog: 0, paidInWindow: 0, windowSeconds: 10, oldestWaitingSeconds: 0 })).toMatchObject({
      drainPerSecond: null,
      projectedWaitSeconds: 0,
    });
    expect(
      projectWait({ backlog: 3, paidInWindow: 0, windowSeconds: 10, oldestWaitingSeconds: 4 }).projectedWaitSeconds,
    ).toBeNull();
  });

  it("measures the drain over the last 10 s, never over more time than the oldest order waited, at least 1 s", () => {
    expect(measurementWindowSeconds(120, 10)).toBe(10);
    expect(measurementWindowSeconds(3.5, 10)).toBe(3.5);
    expect(measurementWindowSeconds(0, 10)).toBe(1);
  });

  it("limit mode refuses over the limit with Retry-After = the excess, admits at or under it", () => {
    const at = (backlog: number) =>
      projectWait({ backlog, paidInWindow: 50, windowSeconds: 10, oldestWaitingSeconds: 60 });
    expect(decideAsync(limit(30), at(150), 10)).toBeUndefined();
    const refusal = decideAsync(limit(30), at(201), 10);
    expect(refusal).toMatchObject({
      status: 429,
      reason: "limit",
      retryAfterSeconds: 11, // 40.2 s projected − 30 s, rounded up
      body: { projectedWaitSeconds: 40.2, maxProjectedWaitSeconds: 30, error: expect.stringMatching(/over the 30 s/) },
    });
    expect(decideAsync({ mode: "open", maxProjectedWaitSeconds: 30 }, at(10_000), 10)).toBeUndefined();
    expect(decideAsync({ mode: "paused", maxProjectedWaitSeconds: null }, at(0), 10)).toMatchObject({
      status: 503,
      reason: "paused",
      retryAfterSeconds: 30,
    });
  });

  it("an unknown wait is admitted while the oldest order is younger than min(limit, window), refused after", () => {
    const stalled = (oldestWaitingSeconds: number) =>
      projectWait({ backlog: 40, paidInWindow: 0, windowSeconds: 10, oldestWaitingSeconds });
    expect(decideAsync(limit(30), stalled(9.9), 10)).toBeUndefined();
    expect(decideAsync(limit(30), stalled(10), 10)).toMatchObject({
      status: 429,
      retryAfterSeconds: 30,
      body: { projectedWaitSeconds: null, error: expect.stringMatching(/unknown/) },
    });
    expect(decideAsync(limit(5), stalled(5), 10)?.status).toBe(429);
  });

  it("sync: a slot wait over SYNC_MAX_WAIT_MS is a 503 with Retry-After in whole seconds; unset never refuses", () => {
    const open: IntakeSettings = { mode: "open", maxProjectedWaitSeconds: null };
    expect(decideSync(open, 60_000, undefined)).toBeUndefined();
    expect(decideSync(open, 500, 500)).toBeUndefined();
    expect(decideSync(open, 2_300, 500)).toMatchObject({
      status: 503,
      reason: "sync_wait",
      retryAfterSeconds: 3,
      body: { slotWaitMs: 2300, syncMaxWaitMs: 500 },
    });
    expect(decideSync({ mode: "paused", maxProjectedWaitSeconds: null }, 0, undefined)?.reason).toBe("paused");
  });

  it("the payment processor's slot-wait estimate: the slot that frees next, a payment per round of slots", async () => {
    const ledger = {
      findCharge: async () => undefined,
      recordCharge: async () => ({ charge: {} as never, replayed: false }),
    };
    const payments = new PaymentProcessor({ slots: 2, durationMs: 400, processorId: "t", ledger });
    expect(payments.estimateSlotWaitMs(0)).toBe(0);
    const charge = (i: number) => payments.charge({ idempotencyKey: `k${i}`, orderId: `o${i}`, amountCents: 1 });
    const running = [charge(1), charge(2), charge(3)];
    await new Promise((r) => setTimeout(r, 20)); // both slots taken, one caller waiting
    const now = performance.now();
    const first = payments.estimateSlotWaitMs(0, now);
    expect(first).toBeGreaterThan(300);
    expect(first).toBeLessThanOrEqual(400);
    // The caller waiting now (position 0) takes the first slot; the next one the second; the third waits a round.
    expect(payments.estimateSlotWaitMs(undefined, now)).toBeCloseTo(payments.estimateSlotWaitMs(1, now), 6);
    expect(payments.estimateSlotWaitMs(2, now)).toBeCloseTo(first + 400, 6);
    await Promise.all(running);
  });

  it("counts the orders accepted since its last read, and reads the store at most once per cache period", async () => {
    let t = 0;
    let reads = 0;
    const store = {
      countByStatus: async () => {
        reads++;
        return { queued: 100, failed: 0, processing: 5, paid: 0, dead: 0 };
      },
      activitySince: async () => ({ accepted: 0, paid: 50, endToEndMs: [] }),
      oldestWaitingAgeSeconds: async () => 60,
      getSetting: async <T>() => limit(30) as T,
      setSetting: async () => {},
    };
    const refused: string[] = [];
    const admission = new AdmissionControl({
      store,
      payments: { estimateSlotWaitMs: () => 0 },
      metrics: { refused: { labels: (reason: string) => ({ inc: () => refused.push(reason) }) } } as never,
      now: () => t,
    });
    // The 5 processing are this API's own sync orders: not ahead of an async one.
    admission.syncInFlight = 5;
    expect((await admission.projection()).projectedWaitSeconds).toBe(20);
    for (let i = 0; i < 50; i++) admission.noteAccepted();
    expect((await admission.projection()).projectedWaitSeconds).toBe(30);
    expect(await admission.admitAsync()).toBeUndefined();
    admission.noteAccepted();
    expect(await admission.admitAsync()).toMatchObject({ status: 429, retryAfterSeconds: 1 });
    expect(reads).toBe(1);
    expect(refused).toEqual(["limit"]);
    expect(admission.refused).toEqual({ limit: 1, paused: 0, syncWait: 0 });
    t = 250; // a fresh read: the store's count now includes what was accepted
    expect((await admission.projection()).projectedWaitSeconds).toBe(20);
    expect(reads).toBe(2);
    // This API's own synchronous payments are in the store's paid count but drain no backlog.
    for (let i = 0; i < 10; i++) admission.noteSyncPaid();
    t = 500;
    expect(await admission.projection()).toMatchObject({ paidInWindow: 40, projectedWaitSeconds: 25 });
    t = 20_000; // out of the window
    expect((await admission.projection()).paidInWindow).toBe(50);
    // Orders a task is paying are ahead of a new one too.
    admission.syncInFlight = 0;
    t = 20_250;
    expect((await admission.projection()).backlog).toBe(105);
  });
});

/** Orders `ageSeconds` old waiting in the store, and `paid` of them paid just now. */
async function seed(store: OrderStore, waiting: number, paid: number, ageSeconds: number) {
  const ids: string[] = [];
  for (let i = 0; i < waiting + paid; i++) {
    const orderId = newOrderId();
    ids.push(orderId);
    await store.acceptOrder(
      {
        orderId,
        customerId: 7,
        items: [{ productId: "sku-1", quantity: 1, price: 1 }],
        totalCents: 100,
        mode: "async",
        acceptedAtMs: Date.now() - ageSeconds * 1000,
      },
      { outbox: false },
    );
  }
  for (const orderId of ids.slice(0, paid)) {
    await store.claimOrder(orderId, "seed", 10_000);
    const { charge } = await store.recordCharge({
      idempotencyKey: orderId,
      orderId,
      amountCents: 100,
      processorId: "seed",
    });
    await store.markPaid(orderId, charge.chargeId);
  }
}

async function refusedMetric(url: string, reason: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`surge_orders_refused_total{reason="${reason}"}`));
  return Number(line?.split(" ")[1]);
}

describe("admission control: the order routes and /ops/intake", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it("limit mode: 429 with Retry-After over the limit, nothing recorded or enqueued; 202 under it", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator);
    try {
      // 50 waiting for 60 s, 5 paid in the last 10 s: 0.5 orders/s, a 100 s projected wait.
      await seed(t.store, 50, 5, 60);
      expect(await refusedMetric(api.url, "limit")).toBe(0);
      const set = await put(api.url, { mode: "limit", maxProjectedWaitSeconds: 30 });
      expect(set.status).toBe(200);
      expect(await set.json()).toMatchObject({ mode: "limit", maxProjectedWaitSeconds: 30, projectedWaitSeconds: 100 });

      const before = await t.store.reconcile();
      const refused = await postJson(`${api.url}/orders/async`, validOrder({ idempotencyKey: "refused-1" }));
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("70");
      expect(refused.body).toEqual({
        error: "intake limited: the projected wait is 100 s, over the 30 s limit",
        projectedWaitSeconds: 100,
        maxProjectedWaitSeconds: 30,
      });
      // Nothing recorded, nothing in the outbox, nothing on the queue.
      expect(await t.store.reconcile()).toEqual(before);
      expect((await t.store.outboxStats()).pending).toBe(0);
      await new Promise((r) => setTimeout(r, 200)); // the relay would have published by now
      expect(await api.queue.depth()).toMatchObject({ visible: 0, inFlight: 0 });
      expect(await refusedMetric(api.url, "limit")).toBe(1);

      await put(api.url, { mode: "limit", maxProjectedWaitSeconds: 120 });
      const accepted = await postJson(`${api.url}/orders/async`, validOrder({ idempotencyKey: "refused-1" }));
      expect(accepted.status).toBe(202);
      expect((await t.store.reconcile()).accepted).toBe(before.accepted + 1);

      const view = await (await fetch(`${api.url}/ops/intake`, { headers: auth })).json();
      expect(view).toMatchObject({ mode: "limit", refused: { limit: 1, paused: 0, syncWait: 0 }, syncMaxWaitMs: null });
    } finally {
      await api.close();
      await t.remove();
    }
  });

  it("limit mode refuses a stalled fleet: orders waiting past the window and nothing paid", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator);
    try {
      await seed(t.store, 3, 0, 15);
      await put(api.url, { mode: "limit", maxProjectedWaitSeconds: 30 });
      const res = await postJson(`${api.url}/orders/async`, validOrder());
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("30");
      expect(res.body).toMatchObject({ projectedWaitSeconds: null, maxProjectedWaitSeconds: 30 });
      expect((await t.store.reconcile()).accepted).toBe(3);
    } finally {
      await api.close();
      await t.remove();
    }
  });

  it("paused: 503 with Retry-After on both routes, nothing recorded; an order accepted before still goes out", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator);
    try {
      const before = await postJson(`${api.url}/orders/async`, validOrder());
      expect(before.status).toBe(202);
      expect((await put(api.url, { mode: "paused" })).status).toBe(200);
      for (const route of ["async", "sync"]) {
        const res = await postJson(`${api.url}/orders/${route}`, validOrder());
        expect(res.status).toBe(503);
        expect(res.headers.get("retry-after")).toBe("30");
        expect(res.body).toEqual({ error: "order intake is paused by an operator" });
      }
      expect((await t.store.reconcile()).accepted).toBe(1);
      expect(await refusedMetric(api.url, "paused")).toBe(2);
      // The order answered 202 before the pause is published, not refused later.
      await expect.poll(async () => (await api.queue.depth()).visible, { timeout: 5000 }).toBe(1);
      expect((await t.store.getOrder(String(before.body.orderId)))?.status).toBe("queued");

      expect((await put(api.url, { mode: "open" })).status).toBe(200);
      expect((await postJson(`${api.url}/orders/async`, validOrder())).status).toBe(202);
    } finally {
      await api.close();
      await t.remove();
    }
  });

  it("sync: 503 with Retry-After at once when the slot wait would exceed SYNC_MAX_WAIT_MS", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator, {
      payment: { slots: 1, durationMs: 600, failureRate: 0 },
      syncMaxWaitMs: 100,
    });
    try {
      const first = postJson(`${api.url}/orders/sync`, validOrder());
      await expect.poll(() => api.api.payments.slotsInUse).toBe(1);
      let firstAnswered = false;
      void first.then(() => {
        firstAnswered = true;
      });
      const refused = await postJson(`${api.url}/orders/sync`, validOrder());
      // Answered without waiting for the slot: the payment holding it (600 ms) is still running.
      expect(firstAnswered).toBe(false);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.body).toMatchObject({ syncMaxWaitMs: 100, error: expect.stringMatching(/no payment slot/) });
      expect((await first).status).toBe(200);
      expect(await t.store.reconcile()).toMatchObject({ accepted: 1, charges: 1 });
      expect(await refusedMetric(api.url, "sync_wait")).toBe(1);
      expect((await postJson(`${api.url}/orders/sync`, validOrder())).status).toBe(200);
      expect(await (await fetch(`${api.url}/ops/intake`, { headers: auth })).json()).toMatchObject({
        refused: { syncWait: 1 },
        syncMaxWaitMs: 100,
      });
    } finally {
      await api.close();
      await t.remove();
    }
  });

  it("PUT /ops/intake: 400 naming the field and bound, read-only tokens read, every change audited and stored", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator, {
      opsTokens: [
        { token: OPS_TOKEN, label: "test-operator", role: "operator" },
        { token: READ_ONLY, label: "viewer", role: "read-only" },
      ],
    });
    try {
      const field = async (res: Response) => {
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: string; details: Array<{ field: string }> };
        return { field: body.details[0]?.field, error: body.error };
      };
      expect(await field(await put(api.url, { mode: "closed" }))).toMatchObject({ field: "mode" });
      expect(await field(await put(api.url, { mode: "limit" }))).toMatchObject({
        field: "maxProjectedWaitSeconds",
        error: expect.stringMatching(/required in limit mode \(1 to 86400 seconds\)/),
      });
      expect(await field(await put(api.url, { mode: "limit", maxProjectedWaitSeconds: 0 }))).toMatchObject({
        field: "maxProjectedWaitSeconds",
        error: expect.stringMatching(/>=1/),
      });
      expect(await field(await put(api.url, { mode: "limit", maxProjectedWaitSeconds: 86_401 }))).toMatchObject({
        field: "maxProjectedWaitSeconds",
      });
      expect((await field(await put(api.url, { mode: "open", extra: 1 }))).error).toMatch(/extra/);

      expect((await fetch(`${api.url}/ops/intake`)).status).toBe(401);
      expect((await fetch(`${api.url}/ops/intake`, { headers: { authorization: `Bearer ${READ_ONLY}` } })).status).toBe(
        200,
      );
      expect((await put(api.url, { mode: "paused" }, READ_ONLY)).status).toBe(403);

      expect((await put(api.url, { mode: "limit", maxProjectedWaitSeconds: 45 })).status).toBe(200);
      // The limit is kept while intake is open, so limiting again needs no number.
      expect((await put(api.url, { mode: "open" })).status).toBe(200);
      expect(await (await put(api.url, { mode: "limit" })).json()).toMatchObject({ maxProjectedWaitSeconds: 45 });

      const audit = (await (await fetch(`${api.url}/ops/audit?action=intake`, { headers: auth })).json()) as {
        entries: Array<{ action: string; actor: string; before: unknown; after: unknown }>;
      };
      expect(audit.entries.reverse()).toEqual([
        expect.objectContaining({
          action: "intake.set",
          actor: "test-operator",
          before: { mode: "open", maxProjectedWaitSeconds: null },
          after: { mode: "limit", maxProjectedWaitSeconds: 45 },
        }),
        expect.objectContaining({
          before: { mode: "limit", maxProjectedWaitSeconds: 45 },
          after: { mode: "open", maxProjectedWaitSeconds: 45 },
        }),
        expect.objectContaining({
          before: { mode: "open", maxProjectedWaitSeconds: 45 },
          after: { mode: "limit", maxProjectedWaitSeconds: 45 },
        }),
      ]);
      const state = (await (await fetch(`${api.url}/ops/state`, { headers: auth })).json()) as Record<string, unknown>;
      expect(state.intake).toMatchObject({ mode: "limit", maxProjectedWaitSeconds: 45 });
    } finally {
      await api.close();
    }
    // A restarted API on the same store applies the operator's choice.
    const again = await startTestApi(t.store, emulator);
    try {
      expect(await (await fetch(`${again.url}/ops/intake`, { headers: auth })).json()).toMatchObject({
        mode: "limit",
        maxProjectedWaitSeconds: 45,
      });
    } finally {
      await again.close();
      await t.remove();
    }
  });
});
