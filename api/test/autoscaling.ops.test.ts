import { newOrderId, type OrderStore } from "@surge/core";
import { tempSqliteStore } from "@surge/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ActivityLog } from "../src/autoscaling/activity-log.js";
import { BacklogSource } from "../src/autoscaling/backlog.js";
import { LocalAutoscaler } from "../src/autoscaling/local.js";
import { POLICY_DEFAULTS } from "../src/autoscaling/policy.js";
import { CachedFleet } from "../src/fleet/cache.js";
import { AuditLog } from "../src/ops/audit.js";
import { autoscalingModule } from "../src/ops/modules/autoscaling.js";
import { apiPerTest, InstantFleet, OPS_TOKEN, silentLog } from "./helpers.js";

/** `count` async orders accepted at `acceptedAtMs`, waiting for a task (never published: the workers'). */
async function accept(store: OrderStore, count: number, acceptedAtMs: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const orderId = newOrderId();
    ids.push(orderId);
    await store.acceptOrder(
      {
        orderId,
        customerId: 7,
        items: [{ productId: "sku-1", quantity: 1, price: 1 }],
        totalCents: 100,
        mode: "async",
        acceptedAtMs,
      },
      { outbox: true },
    );
  }
  return ids;
}

describe("BacklogSource: the oldest waiting order's age, exact from the store", () => {
  let t: ReturnType<typeof tempSqliteStore> | undefined;
  afterEach(async () => {
    await t?.remove();
  });

  it("ages the oldest order no task holds on its clock, and 0 with nothing waiting", async () => {
    t = tempSqliteStore();
    let nowMs = 1_800_000_000_000;
    const source = new BacklogSource({ store: t.store, now: () => nowMs });
    expect(await source.read()).toMatchObject({ backlog: 0, oldestAgeSeconds: 0 });

    const [oldest] = await accept(t.store, 1, nowMs - 42_500);
    await accept(t.store, 2, nowMs - 3_000);
    expect(await source.read()).toMatchObject({ backlog: 3, queued: 3, oldestAgeSeconds: 42.5 });
    nowMs += 1_000;
    expect((await source.read()).oldestAgeSeconds).toBe(43.5);
    // Taken by a task, the oldest no longer waits for one: the next oldest is the signal.
    await t.store.claimOrder(oldest ?? "", "task-1", 30_000);
    expect(await source.read()).toMatchObject({ backlog: 2, processing: 1, oldestAgeSeconds: 4 });
  });
});

describe("PUT /ops/autoscaling targetOldestAgeSeconds, and the signal in /ops/scaling-activities", () => {
  let autoscaler: LocalAutoscaler;
  const ctx = apiPerTest((store) => {
    const fleet = new CachedFleet(new InstantFleet({ desiredCount: 2, running: 2 }), 0);
    const backlog = new BacklogSource({ store });
    autoscaler = new LocalAutoscaler({
      store,
      fleet,
      backlog,
      activities: new ActivityLog(store),
      audit: new AuditLog(store),
      log: silentLog,
      defaults: { ...POLICY_DEFAULTS, enabled: false, maxTasks: 40 },
      evaluationIntervalMs: 60_000,
    });
    return {
      opsModules: [
        autoscalingModule({
          autoscaler,
          fleet,
          backlog,
          maxTasks: 50,
          payment: { slots: 5, durationMs: 3000 },
          backlogCacheMs: 0,
        }),
      ],
    };
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ctx.api.url}${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${OPS_TOKEN}` },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("refuses a bad target with a 400 naming the field and the bound, and changes nothing", async () => {
    for (const bad of [0, -1, 3601, "15", false]) {
      const res = await call("PUT", "/ops/autoscaling", { enabled: true, targetOldestAgeSeconds: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.details).toEqual([
        { field: "targetOldestAgeSeconds", message: "must be null or a number of seconds in (0, 3600]" },
      ]);
      expect(String(res.body.error)).toContain("targetOldestAgeSeconds");
    }
    expect((await call("GET", "/ops/autoscaling")).body).toMatchObject({
      enabled: false,
      targetOldestAgeSeconds: null,
    });
  });

  it("stores the target, reads it back, audits the change, and null goes back to backlog only", async () => {
    const set = await call("PUT", "/ops/autoscaling", { targetOldestAgeSeconds: 15 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ targetOldestAgeSeconds: 15, signals: { oldestAgeSeconds: 0 } });
    expect((await call("GET", "/ops/autoscaling")).body.targetOldestAgeSeconds).toBe(15);
    const cleared = await call("PUT", "/ops/autoscaling", { targetOldestAgeSeconds: null });
    expect(cleared.body.targetOldestAgeSeconds).toBeNull();

    const audit = (await call("GET", "/ops/audit")).body.entries as Array<Record<string, Record<string, unknown>>>;
    expect(audit.map((e) => [e.action, e.before?.targetOldestAgeSeconds, e.after?.targetOldestAgeSeconds])).toEqual([
      ["autoscaling.policy", 15, null],
      ["autoscaling.policy", null, 15],
    ]);
  });

  it("scales out on the age, and the activity names the signal and the age it saw", async () => {
    await accept(ctx.t.store, 3, Date.now() - 40_000);
    await call("PUT", "/ops/autoscaling", { enabled: true, targetOldestAgeSeconds: 10 });
    expect((await call("GET", "/ops/autoscaling")).body.signals).toMatchObject({
      backlog: 3,
      oldestAgeSeconds: expect.closeTo(40, 0),
    });
    // 2 running × ~40 s ÷ 10 s: 9 tasks (8 if the store answered within the same millisecond).
    const decision = await autoscaler.evaluate();
    expect(decision).toMatchObject({ action: "out", signal: "age" });

    const activities = (await call("GET", "/ops/scaling-activities")).body.activities as Array<Record<string, unknown>>;
    const scaled = activities.find((a) => a.direction === "out");
    expect(scaled).toMatchObject({ status: "successful", from: 2, signal: "age", backlog: 3 });
    expect(scaled?.oldestAgeSeconds).toBeGreaterThanOrEqual(40);
    const metrics = await (await fetch(`${ctx.api.url}/metrics`)).text();
    const gauge = /^surge_queue_oldest_untaken_age_seconds ([\d.]+)$/m.exec(metrics)?.[1];
    expect(Number(gauge)).toBeGreaterThanOrEqual(40);
    expect(scaled?.cause).toMatch(
      /^oldest order 40(\.\d)? s > target 10 s \(2 × 40(\.\d)? ÷ 10\) → \d tasks \(backlog 3 /,
    );
  });
});
