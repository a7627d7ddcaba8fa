import { tempPostgresStore, tempSqliteStore } from "@surge/testing";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { newOrderId, type OrderStore, totalCents } from "../src/index.js";

const items = [{ productId: "sku-1", quantity: 2, price: 10.5 }];
const newOrder = (overrides: Partial<Parameters<OrderStore["acceptOrder"]>[0]> = {}) => ({
  orderId: newOrderId(),
  customerId: 7,
  items,
  totalCents: totalCents(items),
  mode: "async" as const,
  acceptedAtMs: Date.now(),
  ...overrides,
});

// One suite, every backend: SQLite (embedded default) and PostgreSQL (DATABASE_URL).
const backends: Array<[string, () => { store: OrderStore; remove(): Promise<void> }]> = [
  ["sqlite", () => tempSqliteStore()],
  ["postgres", () => tempPostgresStore(inject("postgresUrl"))],
];

describe.each(backends)("OrderStore conformance: %s", (_name, open) => {
  let store: OrderStore;
  let remove: () => Promise<void>;
  beforeEach(() => {
    ({ store, remove } = open());
  });
  afterEach(async () => {
    await remove();
  });

  it("records an async order with its outbox row atomically", async () => {
    const order = newOrder();
    const { order: saved, created } = await store.acceptOrder(order, { outbox: true });
    expect(created).toBe(true);
    expect(saved).toMatchObject({ orderId: order.orderId, status: "queued", attempts: 0, totalCents: 2100 });
    const rows = await store.claimOutbox(10, 5000);
    expect(rows.map((r) => r.orderId)).toEqual([order.orderId]);
    expect(JSON.parse(rows[0]?.payload ?? "{}")).toMatchObject({ orderId: order.orderId });
    expect(await store.getOrder(order.orderId)).toMatchObject({ status: "queued", customerId: 7, items });
  });

  it("answers a repeated idempotency key with the first order and no second outbox row", async () => {
    const first = await store.acceptOrder(newOrder({ idempotencyKey: "k1" }), { outbox: true });
    const again = await store.acceptOrder(newOrder({ idempotencyKey: "k1" }), { outbox: true });
    expect(again.created).toBe(false);
    expect(again.order.orderId).toBe(first.order.orderId);
    expect((await store.outboxStats()).pending).toBe(1);
    // The key is per customer.
    const other = await store.acceptOrder(newOrder({ idempotencyKey: "k1", customerId: 8 }), { outbox: true });
    expect(other.created).toBe(true);
  });

  it("group-commits concurrent accepts without losing or mixing any", async () => {
    const orders = Array.from({ length: 50 }, () => newOrder());
    const results = await Promise.all(orders.map((o) => store.acceptOrder(o, { outbox: true })));
    expect(results.map((r) => r.order.orderId)).toEqual(orders.map((o) => o.orderId));
    expect((await store.countByStatus()).queued).toBe(50);
    expect((await store.outboxStats()).pending).toBe(50);
  });

  it("leases outbox rows so two relays never take the same row, and deletes completed ones", async () => {
    for (let i = 0; i < 5; i++) await store.acceptOrder(newOrder(), { outbox: true });
    const [a, b] = await Promise.all([store.claimOutbox(3, 60_000), store.claimOutbox(3, 60_000)]);
    const ids = [...(a ?? []), ...(b ?? [])].map((r) => r.id);
    expect(new Set(ids).size).toBe(5);
    await store.completeOutbox(ids);
    expect((await store.outboxStats()).pending).toBe(0);
  });

  it("walks queued → processing → paid, and a second claim of a paid order says so", async () => {
    const { order } = await store.acceptOrder(newOrder(), { outbox: false });
    const claim = await store.claimOrder(order.orderId, "task-a", 30_000);
    expect(claim).toMatchObject({ kind: "claimed", order: { status: "processing", attempts: 1 } });
    // Another task sees the lease held.
    const busy = await store.claimOrder(order.orderId, "task-b", 30_000);
    expect(busy.kind).toBe("busy");
    if (busy.kind === "busy") expect(busy.leaseRemainingMs).toBeGreaterThan(20_000);
    await store.markPaid(order.orderId, "ch_1");
    const after = await store.claimOrder(order.orderId, "task-b", 30_000);
    expect(after).toMatchObject({ kind: "paid", order: { status: "paid", attempts: 1 } });
    expect((await store.getOrder(order.orderId))?.paidAt).toBeDefined();
  });

  it("lets another task take an order whose lease expired (its holder died)", async () => {
    const { order } = await store.acceptOrder(newOrder(), { outbox: false });
    await store.claimOrder(order.orderId, "task-a", 1);
    await new Promise((r) => setTimeout(r, 5));
    const claim = await store.claimOrder(order.orderId, "task-b", 30_000);
    expect(claim).toMatchObject({ kind: "claimed", order: { attempts: 2 } });
    // The old holder can no longer renew or fail it.
    expect(await store.renewLease(order.orderId, "task-a", 30_000)).toBe(false);
    expect(await store.renewLease(order.orderId, "task-b", 30_000)).toBe(true);
  });

  it("failed orders are retried; dead orders keep their reason and are requeued by redrive", async () => {
    const { order } = await store.acceptOrder(newOrder(), { outbox: true });
    await store.completeOutbox((await store.claimOutbox(10, 1000)).map((r) => r.id));
    await store.claimOrder(order.orderId, "t", 30_000);
    await store.markFailed(order.orderId, "t", "declined");
    expect(await store.getOrder(order.orderId)).toMatchObject({ status: "failed", lastError: "declined" });
    expect((await store.claimOrder(order.orderId, "t", 30_000)).kind).toBe("claimed");
    await store.markDead(order.orderId, "gave up after 5 receives");
    expect(await store.getOrder(order.orderId)).toMatchObject({
      status: "dead",
      lastError: "gave up after 5 receives",
    });
    expect((await store.claimOrder(order.orderId, "t", 30_000)).kind).toBe("dead");
    expect(await store.requeueDead()).toEqual([order.orderId]);
    expect((await store.getOrder(order.orderId))?.status).toBe("queued");
    expect((await store.outboxStats()).pending).toBe(1);
    expect(await store.requeueDead([order.orderId])).toEqual([]);
  });

  it("a purge marks waiting async orders dead with the reason, leaving paid, processing and sync ones", async () => {
    const waiting = await store.acceptOrder(newOrder(), { outbox: true });
    const paying = await store.acceptOrder(newOrder(), { outbox: true });
    const sync = await store.acceptOrder(newOrder({ mode: "sync" }), { outbox: false });
    await store.claimOrder(paying.order.orderId, "t", 30_000);
    expect(await store.markWaitingDead("purged by ops")).toEqual([waiting.order.orderId]);
    expect(await store.getOrder(waiting.order.orderId)).toMatchObject({ status: "dead", lastError: "purged by ops" });
    expect((await store.getOrder(paying.order.orderId))?.status).toBe("processing");
    expect((await store.getOrder(sync.order.orderId))?.status).toBe("queued");
  });

  it("records where the relay published each order: the workers' counts and the stale sweep leave Lambda's out", async () => {
    const minuteAgo = Date.now() - 60_000;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await store.acceptOrder(newOrder({ acceptedAtMs: minuteAgo + i }), { outbox: true })).order.orderId);
    }
    const [toWorkers, toLambda, alsoLambda, unpublished] = ids as [string, string, string, string];
    const rows = (await store.claimOutbox(10, 1000)).filter((r) => r.orderId !== unpublished);
    await store.completeOutbox(
      rows.map((r) => r.id),
      [
        { orderId: toWorkers, platform: "workers" },
        { orderId: toLambda, platform: "lambda" },
        { orderId: alsoLambda, platform: "lambda" },
      ],
    );
    expect(await store.outboxStats()).toMatchObject({ pending: 1 });
    expect((await store.countByStatus()).queued).toBe(4);
    // Never published counts as the workers': that is where an order without a route goes.
    expect((await store.countByStatus("workers")).queued).toBe(2);
    expect((await store.countByStatus("lambda")).queued).toBe(2);
    await store.claimOrder(alsoLambda, "lambda-env-1", 30_000);
    expect(await store.countByStatus("lambda")).toMatchObject({ queued: 1, processing: 1 });

    // Lost from the queue, the workers' order is published again; Lambda's were never on it.
    expect(await store.republishStale(30_000, 100)).toEqual([toWorkers]);

    // Redriven while the target is the workers: published there, counted there again.
    const again = await store.claimOutbox(10, 1000);
    await store.completeOutbox(
      again.map((r) => r.id),
      [
        ...again.map((r) => ({ orderId: r.orderId, platform: "workers" as const })),
        { orderId: toLambda, platform: "workers" },
      ],
    );
    expect((await store.countByStatus("workers")).queued).toBe(3);
    expect((await store.countByStatus("lambda")).processing).toBe(1);
    // Without routes (a relay with no router), completing changes nothing about the platform.
    await store.completeOutbox([]);
    expect((await store.countByStatus("lambda")).processing).toBe(1);
  });

  it("republishes stale waiting async orders the broker lost, oldest first, once, and nothing else", async () => {
    const minuteAgo = Date.now() - 60_000;
    const accept = async (overrides: Parameters<typeof newOrder>[0], outbox: boolean) =>
      (await store.acceptOrder(newOrder({ acceptedAtMs: minuteAgo, ...overrides }), { outbox })).order.orderId;
    const queued = [await accept({ acceptedAtMs: minuteAgo - 2 }, false), await accept({}, false)];
    const failed = await accept({ acceptedAtMs: minuteAgo - 1 }, false);
    await store.claimOrder(failed, "t", 30_000);
    await store.markFailed(failed, "t", "declined");
    const pendingOutbox = await accept({}, true); // not yet published: the relay has it
    const sync = await accept({ mode: "sync" }, false);
    const paid = await accept({}, false);
    await store.claimOrder(paid, "t", 30_000);
    await store.markPaid(paid, "ch_1");
    const dead = await accept({}, false);
    await store.markDead(dead, "poison");
    const leased = await accept({}, false);
    await store.claimOrder(leased, "t", 30_000);
    const expired = await accept({}, false);
    await store.claimOrder(expired, "gone", 1);

    // The failed one was touched by markFailed just now: not stale after 30 s.
    expect(await store.republishStale(30_000, 100)).toEqual(queued);
    expect(await store.republishStale(30_000, 100)).toEqual([]);
    await store.completeOutbox(
      (await store.claimOutbox(100, 1000)).filter((r) => queued.includes(r.orderId)).map((r) => r.id),
    );
    // Touched when republished: the next sweep leaves them alone even though their rows are published.
    expect(await store.republishStale(30_000, 100)).toEqual([]);
    await new Promise((r) => setTimeout(r, 5));
    // With no age threshold: the failed one and the expired lease too, within the limit, oldest first.
    expect(await store.republishStale(0, 2)).toEqual([queued[0], failed]);
    expect((await store.republishStale(0, 100)).sort()).toEqual([queued[1], expired].sort());
    const rows = await store.claimOutbox(100, 1000);
    for (const id of [sync, paid, dead, leased]) expect(rows.map((r) => r.orderId)).not.toContain(id);
    // The order the relay still had keeps its one row; the four republished got one each.
    expect(await store.outboxStats()).toMatchObject({ pending: 5 });
    expect(rows.map((r) => r.orderId)).not.toContain(pendingOutbox);
    expect(JSON.parse(rows.find((r) => r.orderId === failed)?.payload ?? "{}")).toMatchObject({ orderId: failed });
    expect((await store.getOrder(expired))?.status).toBe("processing");
  });

  it("release hands an interrupted order back untouched", async () => {
    const { order } = await store.acceptOrder(newOrder(), { outbox: false });
    await store.claimOrder(order.orderId, "t", 30_000);
    await store.releaseOrder(order.orderId, "someone-else");
    expect((await store.getOrder(order.orderId))?.status).toBe("processing");
    await store.releaseOrder(order.orderId, "t");
    expect((await store.getOrder(order.orderId))?.status).toBe("queued");
  });

  it("records a charge once per idempotency key, even when racing", async () => {
    const { order } = await store.acceptOrder(newOrder(), { outbox: false });
    const charge = {
      idempotencyKey: `order:${order.orderId}`,
      orderId: order.orderId,
      amountCents: 2100,
      processorId: "p",
    };
    const results = await Promise.all(Array.from({ length: 8 }, () => store.recordCharge(charge)));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.charge.chargeId)).size).toBe(1);
    expect((await store.findCharge(charge.idempotencyKey))?.amountCents).toBe(2100);
    await store.markPaid(order.orderId, results[0]?.charge.chargeId ?? "");
    expect(await store.reconcile()).toMatchObject({ charges: 1, paidTwice: 0, paidWithoutCharge: 0 });
  });

  it("reports the exact age of the oldest waiting async order", async () => {
    expect(await store.oldestWaitingAgeSeconds()).toBe(0);
    await store.acceptOrder(newOrder({ acceptedAtMs: Date.now() - 90_000 }), { outbox: true });
    await store.acceptOrder(newOrder({ acceptedAtMs: Date.now() - 5_000, mode: "sync" }), { outbox: false });
    const age = await store.oldestWaitingAgeSeconds();
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(100);
  });

  it("finds the oldest order no task holds, per platform, for the age-based autoscaler", async () => {
    expect(await store.oldestUntakenAcceptedAtMs()).toBeUndefined();
    const t0 = 1_700_000_000_000;
    const taken = await store.acceptOrder(newOrder({ acceptedAtMs: t0 }), { outbox: true });
    const retrying = await store.acceptOrder(newOrder({ acceptedAtMs: t0 + 1000 }), { outbox: true });
    const queued = await store.acceptOrder(newOrder({ acceptedAtMs: t0 + 2000 }), { outbox: true });
    const lambda = await store.acceptOrder(newOrder({ acceptedAtMs: t0 - 5000 }), { outbox: true });
    await store.acceptOrder(newOrder({ acceptedAtMs: t0 - 9000, mode: "sync" }), { outbox: false });
    const outbox = await store.claimOutbox(10, 30_000);
    await store.completeOutbox(
      outbox.map((e) => e.id),
      outbox.map((e) => ({ orderId: e.orderId, platform: e.orderId === lambda.order.orderId ? "lambda" : "workers" })),
    );
    // A task holds the oldest worker order: it is no longer waiting for one.
    await store.claimOrder(taken.order.orderId, "task-a", 30_000);
    await store.claimOrder(retrying.order.orderId, "task-a", 30_000);
    await store.markFailed(retrying.order.orderId, "task-a", "declined");
    expect(await store.oldestUntakenAcceptedAtMs("workers")).toBe(t0 + 1000);
    expect(await store.oldestUntakenAcceptedAtMs("lambda")).toBe(t0 - 5000);
    expect(await store.oldestUntakenAcceptedAtMs()).toBe(t0 - 5000);
    await store.claimOrder(retrying.order.orderId, "task-b", 30_000);
    expect(await store.oldestUntakenAcceptedAtMs("workers")).toBe(t0 + 2000);
    await store.claimOrder(queued.order.orderId, "task-b", 30_000);
    expect(await store.oldestUntakenAcceptedAtMs("workers")).toBeUndefined();
  });

  it("reconciliation finds paid-without-charge and unexplained dead orders", async () => {
    const { order } = await store.acceptOrder(newOrder(), { outbox: false });
    await store.claimOrder(order.orderId, "t", 1000);
    await store.markPaid(order.orderId, "ch_missing");
    const r = await store.reconcile();
    expect(r).toMatchObject({ accepted: 1, paidWithoutCharge: 1, inProgress: 0 });
  });

  it("reports recent activity: accepted, paid and their end-to-end times", async () => {
    const since = Date.now() - 1000;
    const { order } = await store.acceptOrder(newOrder({ acceptedAtMs: Date.now() - 500 }), { outbox: true });
    await store.acceptOrder(newOrder(), { outbox: true });
    await store.acceptOrder(newOrder({ acceptedAtMs: since - 60_000 }), { outbox: true });
    await store.claimOrder(order.orderId, "t", 30_000);
    await store.markPaid(order.orderId, "ch");
    const activity = await store.activitySince(since);
    expect(activity).toMatchObject({ accepted: 2, paid: 1 });
    expect(activity.endToEndMs[0]).toBeGreaterThanOrEqual(500);
  });

  it("keeps control-plane records newest first, and settings", async () => {
    await store.putRecord("audit", "a", { n: 1 }, 1000);
    await store.putRecord("audit", "b", { n: 2 }, 2000);
    await store.putRecord("audit", "c", { n: 3 }, 3000);
    await store.putRecord("other", "x", { n: 9 }, 2500);
    expect((await store.listRecords("audit")).map((r) => r.id)).toEqual(["c", "b", "a"]);
    expect((await store.listRecords("audit", { limit: 1, beforeMs: 3000 })).map((r) => r.id)).toEqual(["b"]);
    await store.putRecord("audit", "a", { n: 10 }, 4000);
    expect(await store.getRecord("audit", "a")).toMatchObject({ atMs: 4000, data: { n: 10 } });
    expect(await store.getSetting("policy")).toBeUndefined();
    await store.setSetting("policy", { enabled: true });
    await store.setSetting("policy", { enabled: false });
    expect(await store.getSetting("policy")).toEqual({ enabled: false });
  });

  it("books sale windows, refuses an overlap with a standing one, and keeps cancellations", async () => {
    const window = (id: string, startsAtMs: number, endsAtMs: number) => ({
      id,
      startsAtMs,
      endsAtMs,
      minTasks: 4,
      lambdaProvisionedConcurrency: id === "a" ? 10 : null,
      createdAtMs: 500,
      createdBy: "ops",
    });
    expect(await store.insertSaleWindow(window("a", 1000, 2000))).toEqual({
      created: { ...window("a", 1000, 2000), cancelledAtMs: null },
    });
    // Touching ends are not an overlap; a window inside or across one is.
    expect(await store.insertSaleWindow(window("b", 2000, 3000))).toHaveProperty("created");
    expect(await store.insertSaleWindow(window("c", 1500, 1600))).toMatchObject({ overlaps: { id: "a" } });
    expect(await store.insertSaleWindow(window("c", 500, 2500))).toMatchObject({ overlaps: { id: "a" } });
    expect(await store.cancelSaleWindow("a", 900)).toMatchObject({ id: "a", cancelledAtMs: 900 });
    // A second cancel keeps the first time; an unknown id is undefined.
    expect(await store.cancelSaleWindow("a", 950)).toMatchObject({ cancelledAtMs: 900 });
    expect(await store.cancelSaleWindow("nope", 950)).toBeUndefined();
    // A cancelled window no longer blocks its time.
    expect(await store.insertSaleWindow(window("c", 1500, 1600))).toHaveProperty("created");
    expect((await store.listSaleWindows()).map((w) => w.id)).toEqual(["a", "c", "b"]);
    expect((await store.listSaleWindows({ endsAfterMs: 1700 })).map((w) => w.id)).toEqual(["a", "b"]);
    expect(await store.getSaleWindow("b")).toMatchObject({ startsAtMs: 2000, endsAtMs: 3000, minTasks: 4 });
    expect(await store.getSaleWindow("nope")).toBeUndefined();
  });

  it("books one of two overlapping sale windows requested at once", async () => {
    const results = await Promise.all(
      ["x", "y", "z"].map((id) =>
        store.insertSaleWindow({
          id,
          startsAtMs: 1000,
          endsAtMs: 2000,
          minTasks: 2,
          lambdaProvisionedConcurrency: null,
          createdAtMs: 1,
          createdBy: "ops",
        }),
      ),
    );
    expect(results.filter((r) => "created" in r)).toHaveLength(1);
    expect(await store.listSaleWindows()).toHaveLength(1);
  });
});
