import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { newOrderId, type OrderStore } from "@surge/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActivityLog } from "../src/autoscaling/activity-log.js";
import { BacklogSource } from "../src/autoscaling/backlog.js";
import { LocalAutoscaler } from "../src/autoscaling/local.js";
import { POLICY_DEFAULTS } from "../src/autoscaling/policy.js";
import { CachedFleet } from "../src/fleet/cache.js";
import { LocalLambdaInsights } from "../src/lambda/local.js";
import { AuditLog } from "../src/ops/audit.js";
import { fleetModule } from "../src/ops/modules/fleet.js";
import { schedulesModule } from "../src/ops/modules/schedules.js";
import { LocalScheduledCapacity } from "../src/schedule/capacity.js";
import { SaleScheduler } from "../src/schedule/scheduler.js";
import { apiPerTest, InstantFleet, OPS_TOKEN, opsCaller, silentLog, startTestApi } from "./helpers.js";

const MAX_TASKS = 50;
const READ_ONLY = "read-only-token-0123456789abc";
const T0 = Date.parse("2030-01-01T09:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();
const min = 60_000;

/**
 * The local Lambda runtime's provisioned-concurrency route as infra/lambda-runtime/src/control.ts
 * answers it (reserved concurrency 10, LAMBDA_PROVISIONED_CONCURRENCY 1), recording each call;
 * `down` makes it refuse like a runtime that is not there.
 */
const runtime = {
  server: undefined as Server | undefined,
  url: "",
  configured: 1,
  down: false,
  calls: [] as string[],
};

describe("scheduled capacity: sale windows", () => {
  beforeAll(async () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        const reply = (status: number, value: unknown) => {
          res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
        };
        if (runtime.down) return reply(503, { message: "runtime restarting" });
        if (req.url !== "/v1/provisioned-concurrency") return reply(404, { message: "no route" });
        if (req.method === "DELETE") runtime.configured = 1;
        else if (req.method === "PUT") {
          const value = (JSON.parse(body) as { provisionedConcurrency: number }).provisionedConcurrency;
          if (value > 10) return reply(400, { field: "provisionedConcurrency", message: "0..10" });
          runtime.configured = value;
        } else return reply(404, { message: "no route" });
        runtime.calls.push(`${req.method}${req.method === "PUT" ? ` ${runtime.configured}` : ""}`);
        reply(200, { configured: runtime.configured, base: 1, ready: 0, initializing: runtime.configured });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    runtime.server = server;
    runtime.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => (runtime.server ? runtime.server.close(() => resolve()) : resolve())));

  // The fake clock every part reads: the scheduler, the autoscaler and the routes.
  let nowMs = T0;
  const now = () => nowMs;
  let fleet: InstantFleet;
  let autoscaler: LocalAutoscaler;
  let scheduler: SaleScheduler;
  const deps = (store: OrderStore) => {
    nowMs = T0;
    fleet ??= new InstantFleet({ desiredCount: 2, running: 2 });
    const cached = new CachedFleet(fleet, 0);
    const activities = new ActivityLog(store);
    autoscaler = new LocalAutoscaler({
      store,
      fleet: cached,
      backlog: new BacklogSource({ store }),
      activities,
      audit: new AuditLog(store),
      log: silentLog,
      defaults: { ...POLICY_DEFAULTS, enabled: true, maxTasks: 40 },
      now,
    });
    scheduler = new SaleScheduler({
      store,
      autoscaler,
      log: silentLog,
      now,
      lambda: new LocalLambdaInsights({ controlUrl: runtime.url, timeoutMs: 1000 }),
    });
    return {
      opsModules: [
        fleetModule({ fleet: cached, autoscaler, activities, maxTasks: MAX_TASKS }),
        schedulesModule({
          store,
          scheduler,
          capacity: new LocalScheduledCapacity(),
          autoscaler,
          maxTasks: MAX_TASKS,
          now,
        }),
      ],
      opsTokens: [
        { token: OPS_TOKEN, label: "test-operator", role: "operator" as const },
        { token: READ_ONLY, label: "viewer", role: "read-only" as const },
      ],
    };
  };
  const ctx = apiPerTest((store) => {
    fleet = new InstantFleet({ desiredCount: 2, running: 2 });
    return deps(store);
  });

  const call = opsCaller(() => ctx.api.url);
  const book = (startsAtMs: number, endsAtMs: number, minTasks: number, extra: object = {}) =>
    call("POST", "/ops/schedules", { startsAt: iso(startsAtMs), endsAt: iso(endsAtMs), minTasks, ...extra });

  it("raises the floor at the start, the autoscaler scales above it, and lowers it at the end", async () => {
    const created = await book(T0 + 10 * min, T0 + 20 * min, 6);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      startsAt: "2030-01-01T09:10:00.000Z",
      endsAt: "2030-01-01T09:20:00.000Z",
      minTasks: 6,
      lambdaProvisionedConcurrency: null,
      state: "upcoming",
      createdBy: "test-operator",
    });
    const id = created.body.id as string;

    // A second before the start: nothing yet.
    nowMs = T0 + 10 * min - 1000;
    await scheduler.tick();
    expect(fleet.state.desiredCount).toBe(2);
    expect((await autoscaler.evaluate())?.needed).toBe(1);
    const before = fleet.state.desiredCount;

    // At the start: the desired count goes to the window's minimum, and the policy's floor with it.
    nowMs = T0 + 10 * min;
    await scheduler.tick();
    expect(fleet.state.desiredCount).toBe(6);
    expect((await call("GET", "/ops/schedules")).body).toMatchObject({
      activeId: id,
      windows: [{ id, state: "active" }],
    });
    expect((await autoscaler.state()).scheduledFloor).toEqual({
      windowId: id,
      minTasks: 6,
      endsAt: iso(T0 + 20 * min),
    });
    const raised = (await autoscaler.activities(5)).find((a) => a.actor === "schedule" && a.direction === "out");
    expect(raised).toMatchObject({ from: before, to: 6, status: "successful", cause: expect.stringContaining(id) });
    nowMs += 61_000;
    expect((await autoscaler.evaluate())?.needed).toBe(6);

    // Above the floor the autoscaler still follows the backlog: 100 waiting ÷ 10 per task = 10 tasks.
    for (let i = 0; i < 100; i++) {
      await ctx.t.store.acceptOrder(
        {
          orderId: newOrderId(),
          customerId: i,
          items: [{ productId: "p", quantity: 1, price: 1 }],
          totalCents: 100,
          mode: "async",
          acceptedAtMs: nowMs,
        },
        { outbox: false },
      );
    }
    expect(await autoscaler.evaluate()).toMatchObject({ action: "out", to: 10 });
    expect(fleet.state.desiredCount).toBe(10);

    // At the end the floor is lifted: the need falls back to what the backlog and the policy say.
    await ctx.t.store.markWaitingDead("test: backlog cleared");
    nowMs = T0 + 20 * min;
    await scheduler.tick();
    expect((await autoscaler.state()).scheduledFloor).toBeUndefined();
    expect((await autoscaler.evaluate())?.needed).toBe(1);
    expect((await call("GET", "/ops/schedules")).body).toMatchObject({
      activeId: null,
      windows: [{ id, state: "past" }],
    });
    const ended = (await autoscaler.activities(10)).find((a) => a.cause.includes("ended"));
    expect(ended?.cause).toMatch(/scales in to what the backlog needs/);
  });

  it("refuses a manual scale below the floor with a 409 naming the window, allows one above it", async () => {
    const { body } = await book(T0 + min, T0 + 5 * min, 5);
    nowMs = T0 + 2 * min;
    await scheduler.tick();
    const below = await call("PUT", "/ops/fleet", { desiredCount: 3 });
    expect(below.status).toBe(409);
    expect(below.body.error).toContain(`sale window ${body.id}`);
    expect(below.body.details).toEqual([{ field: "desiredCount", message: expect.stringMatching(/at least 5/) }]);
    expect(fleet.state.desiredCount).toBe(5);
    const above = await call("PUT", "/ops/fleet", { desiredCount: 8 });
    expect(above.status).toBe(200);
    expect(fleet.state.desiredCount).toBe(8);
    // Once the window is cancelled, the operator may go lower.
    expect((await call("DELETE", `/ops/schedules/${body.id}`)).body).toMatchObject({ state: "cancelled" });
    expect((await call("PUT", "/ops/fleet", { desiredCount: 3 })).status).toBe(200);
  });

  it("answers 400 naming the field: past start, end ≤ start, overlap, minimum over MAX_WORKER_TASKS", async () => {
    const bad = async (body: unknown, field: string, pattern: RegExp) => {
      const res = await call("POST", "/ops/schedules", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.details?.[0]).toMatchObject({ field, message: expect.stringMatching(pattern) });
    };
    const ok = { startsAt: iso(T0 + min), endsAt: iso(T0 + 2 * min), minTasks: 4 };
    await bad({ ...ok, startsAt: iso(T0 - 1000) }, "startsAt", /past/);
    await bad({ ...ok, endsAt: ok.startsAt }, "endsAt", /after startsAt/);
    await bad({ ...ok, minTasks: MAX_TASKS + 1 }, "minTasks", /1\.\.50 \(MAX_WORKER_TASKS\)/);
    await bad({ ...ok, minTasks: 0 }, "minTasks", /1\.\.50/);
    await bad({ ...ok, startsAt: "tomorrow" }, "startsAt", /ISO-8601/);
    await bad({ ...ok, lambdaProvisionedConcurrency: 0 }, "lambdaProvisionedConcurrency", /1\.\.1000/);
    expect((await call("POST", "/ops/schedules", ok)).status).toBe(201);
    await bad({ ...ok, startsAt: iso(T0 + 90_000), endsAt: iso(T0 + 5 * min) }, "startsAt", /overlaps sale window/);
    // Touching the end is not an overlap.
    expect((await book(T0 + 2 * min, T0 + 3 * min, 4)).status).toBe(201);
  });

  it("lets read-only tokens list, not change; audits every change; 404 and 409 on cancel", async () => {
    expect((await call("GET", "/ops/schedules", undefined, null)).status).toBe(401);
    expect((await call("POST", "/ops/schedules", {}, READ_ONLY)).status).toBe(403);
    const { body } = await book(T0 + min, T0 + 2 * min, 3, { lambdaProvisionedConcurrency: 10 });
    expect(body.lambdaNote).toMatch(/recorded only: the local Lambda runtime/);
    expect((await call("DELETE", `/ops/schedules/${body.id}`, undefined, READ_ONLY)).status).toBe(403);
    expect((await call("GET", "/ops/schedules", undefined, READ_ONLY)).body.windows).toHaveLength(1);
    expect((await call("DELETE", "/ops/schedules/nope")).status).toBe(404);
    expect((await call("DELETE", `/ops/schedules/${body.id}`)).status).toBe(200);
    expect((await call("DELETE", `/ops/schedules/${body.id}`)).status).toBe(409);
    const audit = (await call("GET", "/ops/audit?action=schedule.")).body.entries;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(["schedule.cancel", "schedule.create"]);
    expect(audit[0]).toMatchObject({
      actor: "test-operator",
      before: { state: "upcoming" },
      after: { state: "cancelled" },
    });
    expect((await call("GET", "/ops/state")).body.schedules.windows[0]).toMatchObject({
      id: body.id,
      state: "cancelled",
    });
  });

  it("a start the fleet refused is tried again at the next check, and the failure is in the activity log", async () => {
    await book(T0 + min, T0 + 5 * min, 4);
    const real = fleet.setDesiredCount.bind(fleet);
    fleet.setDesiredCount = async () => {
      throw new Error("fleet control unreachable");
    };
    nowMs = T0 + min;
    await expect(scheduler.tick()).rejects.toThrow(/unreachable/);
    expect(autoscaler.scheduledFloor()).toBeNull();
    const failed = (await autoscaler.activities(5)).find((a) => a.actor === "schedule");
    expect(failed).toMatchObject({
      status: "failed",
      cause: expect.stringMatching(/failed: fleet control unreachable/),
    });
    fleet.setDesiredCount = real;
    nowMs += 1000;
    await scheduler.tick();
    expect(fleet.state.desiredCount).toBe(4);
    expect(autoscaler.scheduledFloor()?.minTasks).toBe(4);
  });

  it("sets a window's Lambda provisioned concurrency at its start and returns it at its end", async () => {
    runtime.calls = [];
    runtime.configured = 1;
    runtime.down = false;
    const { body } = await book(T0 + min, T0 + 10 * min, 3, { lambdaProvisionedConcurrency: 8 });
    expect(body.lambdaProvisionedConcurrency).toBe(8);
    // Before the start: the runtime keeps its own setting (the first check returns it there).
    expect(runtime.calls).toEqual(["DELETE"]);
    nowMs = T0 + min - 1000;
    await scheduler.tick();
    expect(runtime.configured).toBe(1);

    // At the start, with the runtime away for a moment: the floor is raised all the same, and the
    // provisioned concurrency is set at the next check once the runtime answers.
    nowMs = T0 + min;
    runtime.down = true;
    await scheduler.tick();
    expect(fleet.state.desiredCount).toBe(3);
    expect(runtime.configured).toBe(1);
    runtime.down = false;
    nowMs += 1000;
    await scheduler.tick();
    expect(runtime.configured).toBe(8);
    // Set once, not at every check.
    nowMs += 60_000;
    await scheduler.tick();
    expect(runtime.calls).toEqual(["DELETE", "PUT 8"]);

    // At the end: back to the runtime's own LAMBDA_PROVISIONED_CONCURRENCY.
    nowMs = T0 + 10 * min;
    await scheduler.tick();
    expect(runtime.configured).toBe(1);
    expect(runtime.calls).toEqual(["DELETE", "PUT 8", "DELETE"]);
    await expect(new LocalLambdaInsights({ controlUrl: runtime.url }).setProvisionedConcurrency(11)).rejects.toThrow(
      /answered 400 for \/v1\/provisioned-concurrency: 0\.\.10/,
    );
  });

  it("survives an API restart: the new process applies the window in force from the store", async () => {
    const { body } = await book(T0 + min, T0 + 10 * min, 7);
    await ctx.api.close();
    // A new API process on the same store, with a fresh scheduler and autoscaler, in the middle of the window.
    fleet = new InstantFleet({ desiredCount: 1, running: 1 });
    ctx.api = await startTestApi(ctx.t.store, ctx.emulator, deps(ctx.t.store));
    nowMs = T0 + 5 * min;
    expect((await call("GET", "/ops/schedules")).body).toMatchObject({ activeId: body.id, windows: [{ minTasks: 7 }] });
    await scheduler.tick();
    expect(fleet.state.desiredCount).toBe(7);
    expect((await call("PUT", "/ops/fleet", { desiredCount: 2 })).status).toBe(409);
  });
});
