import { describe, expect, it } from "vitest";
import { ActivityLog } from "../src/autoscaling/activity-log.js";
import { BacklogSource } from "../src/autoscaling/backlog.js";
import { LocalAutoscaler } from "../src/autoscaling/local.js";
import { POLICY_DEFAULTS } from "../src/autoscaling/policy.js";
import { CachedFleet } from "../src/fleet/cache.js";
import { AuditLog } from "../src/ops/audit.js";
import { autoscalingModule } from "../src/ops/modules/autoscaling.js";
import { fleetModule } from "../src/ops/modules/fleet.js";
import { apiPerTest, InstantFleet, opsCaller, silentLog } from "./helpers.js";

const MAX_TASKS = 50;

describe("ops routes for the fleet and the autoscaler", () => {
  let fleet: InstantFleet;
  const ctx = apiPerTest((store) => {
    fleet = new InstantFleet({ desiredCount: 2, running: 2, restarts: 3 });
    const cached = new CachedFleet(fleet, 0);
    const activities = new ActivityLog(store);
    const backlog = new BacklogSource({ store: store });
    const autoscaler = new LocalAutoscaler({
      store: store,
      fleet: cached,
      backlog,
      activities,
      audit: new AuditLog(store),
      log: silentLog,
      defaults: { ...POLICY_DEFAULTS, enabled: true, maxTasks: 40 },
      evaluationIntervalMs: 60_000,
    });
    return {
      opsModules: [
        fleetModule({ fleet: cached, autoscaler, activities, maxTasks: MAX_TASKS }),
        autoscalingModule({
          autoscaler,
          fleet: cached,
          backlog,
          maxTasks: MAX_TASKS,
          payment: { slots: 5, durationMs: 3000 },
          backlogCacheMs: 0,
        }),
      ],
    };
  });

  const call = opsCaller(() => ctx.api.url);

  it("answers 401 on every route without the operator token, and changes nothing", async () => {
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/ops/fleet"],
      ["PUT", "/ops/fleet", { desiredCount: 9 }],
      ["GET", "/ops/autoscaling"],
      ["PUT", "/ops/autoscaling", { enabled: false }],
      ["GET", "/ops/scaling-activities"],
    ];
    for (const [method, path, body] of routes) {
      expect((await call(method, path, body, null)).status, `${method} ${path} without a token`).toBe(401);
      expect((await call(method, path, body, "wrong-token-0123456789")).status, `${method} ${path} wrong token`).toBe(
        401,
      );
    }
    expect(fleet.state.desiredCount).toBe(2);
    expect((await call("GET", "/ops/autoscaling")).body.enabled).toBe(true);
  });

  it("GET /ops/fleet reports desired, running, pending, concurrency and its bound, who controls it, and tasks", async () => {
    const res = await call("GET", "/ops/fleet");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      desiredCount: 2,
      running: 2,
      pending: 0,
      stopping: 0,
      concurrency: 5,
      restarts: 3,
      controlledBy: "autoscaler",
      maxTasks: MAX_TASKS,
      maxConcurrency: 200,
      tasks: [],
    });
  });

  it("PUT /ops/fleet refuses values out of bounds with 400 naming the field and the bound", async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ desiredCount: 51 }, "desiredCount", /0\.\.50 \(MAX_WORKER_TASKS\)/],
      [{ desiredCount: -1 }, "desiredCount", /0\.\.50/],
      [{ desiredCount: 2.5 }, "desiredCount", /integer/],
      [{ concurrency: 0 }, "concurrency", /1\.\.200/],
      [{ concurrency: 201 }, "concurrency", /1\.\.200/],
      [{ concurrency: "9" }, "concurrency", /1\.\.200/],
      [{}, "body", /desiredCount and\/or concurrency/],
      [{ desired: 3 }, "body", /unknown field/],
    ];
    for (const [body, field, message] of cases) {
      const res = await call("PUT", "/ops/fleet", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.body.details as unknown[])[0]).toEqual({ field, message: expect.stringMatching(message) });
      expect(String(res.body.error)).toContain(field);
    }
    expect(fleet.state).toMatchObject({ desiredCount: 2, concurrency: 5 });
    expect((await call("GET", "/ops/autoscaling")).body.controlledBy).toBe("autoscaler");
  });

  it("a manual desired count suspends the autoscaler; enabling the policy hands control back; all audited", async () => {
    const put = await call("PUT", "/ops/fleet", { desiredCount: 6, concurrency: 8 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ desiredCount: 6, concurrency: 8, controlledBy: "operator" });
    expect(fleet.state).toMatchObject({ desiredCount: 6, concurrency: 8 });

    const auto = await call("GET", "/ops/autoscaling");
    expect(auto.body).toMatchObject({
      enabled: false,
      controlledBy: "operator",
      suspended: { by: "test-operator", reason: "test-operator set the desired count by hand (2 → 6)" },
      signals: { backlog: 0, backlogPerTask: 0, drainEtaSeconds: 0 },
    });

    const resumed = await call("PUT", "/ops/autoscaling", { enabled: true, targetBacklogPerTask: 20 });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ enabled: true, controlledBy: "autoscaler", targetBacklogPerTask: 20 });
    expect(resumed.body.suspended).toBeUndefined();

    const activities = (await call("GET", "/ops/scaling-activities")).body.activities as Array<Record<string, unknown>>;
    expect(activities.map((a) => a.cause)).toEqual([
      expect.stringMatching(/^test-operator enabled the policy/),
      "test-operator set the desired count by hand (2 → 6)",
      expect.stringMatching(/^dynamic scaling suspended: test-operator set the desired count by hand \(2 → 6\)/),
    ]);
    expect(activities[1]).toMatchObject({ actor: "test-operator", direction: "out", from: 2, to: 6 });

    const audit = (await call("GET", "/ops/audit")).body.entries as Array<Record<string, unknown>>;
    expect(audit.map((e) => [e.actor, e.action, e.before, e.after])).toEqual([
      [
        "test-operator",
        "autoscaling.policy",
        expect.objectContaining({ enabled: false, targetBacklogPerTask: 10, controlledBy: "operator" }),
        expect.objectContaining({ enabled: true, targetBacklogPerTask: 20, controlledBy: "autoscaler" }),
      ],
      [
        "test-operator",
        "fleet.update",
        { desiredCount: 2, concurrency: 5, controlledBy: "autoscaler" },
        { desiredCount: 6, concurrency: 8, controlledBy: "operator" },
      ],
    ]);
    for (const e of audit) expect(Number.isNaN(Date.parse(String(e.at)))).toBe(false);
  });

  it("PUT /ops/autoscaling refuses a bad policy with the field and the bound", async () => {
    const tooMany = await call("PUT", "/ops/autoscaling", { maxTasks: 51 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.details).toEqual([
      { field: "maxTasks", message: "must be an integer in 1..50 (MAX_WORKER_TASKS)" },
    ]);
    const crossed = await call("PUT", "/ops/autoscaling", { minTasks: 30, maxTasks: 20 });
    expect(crossed.status).toBe(400);
    expect((await call("GET", "/ops/autoscaling")).body).toMatchObject({ minTasks: 1, maxTasks: 40 });
  });

  it("puts fleet and autoscaling in the state snapshot and the metrics the dashboards use on /metrics", async () => {
    await call("PUT", "/ops/fleet", { desiredCount: 4 });
    await call("PUT", "/ops/fleet", { desiredCount: 3 });
    const state = await call("GET", "/ops/state");
    expect(state.body.fleet).toMatchObject({ desiredCount: 3, running: 3, controlledBy: "operator" });
    expect(state.body.autoscaling).toMatchObject({ enabled: false, kind: "local", signals: { backlog: 0 } });

    const text = await (await fetch(`${ctx.api.url}/metrics`)).text();
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("surge_fleet_desired_tasks")).toBe(3);
    expect(value("surge_fleet_running_tasks")).toBe(3);
    expect(value("surge_fleet_pending_tasks")).toBe(0);
    expect(value("surge_fleet_concurrency")).toBe(5);
    expect(value("surge_fleet_task_restarts_total")).toBe(3);
    expect(value("surge_queue_backlog_per_task")).toBe(0);
    expect(value("surge_queue_drain_eta_seconds")).toBe(0);
    expect(value("surge_autoscaler_enabled")).toBe(0);
    expect(value('surge_autoscaler_scaling_actions_total{direction="out",actor="operator"}')).toBe(1);
    expect(value('surge_autoscaler_scaling_actions_total{direction="in",actor="operator"}')).toBe(1);
    expect(value('surge_autoscaler_scaling_actions_total{direction="out",actor="autoscaler"}')).toBe(0);
    expect(value('surge_autoscaler_scaling_actions_total{direction="in",actor="autoscaler"}')).toBe(0);
  });
});
