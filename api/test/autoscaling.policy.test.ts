import { createLogger } from "@surge/core";
import { tempSqliteStore } from "@surge/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ActivityLog } from "../src/autoscaling/activity-log.js";
import type { BacklogReading } from "../src/autoscaling/backlog.js";
import { LocalAutoscaler } from "../src/autoscaling/local.js";
import {
  decide,
  parsePolicyUpdate,
  remember,
  type ScalingMemory,
  type ScalingPolicy,
  tasksForAge,
  tasksNeeded,
} from "../src/autoscaling/policy.js";
import type { Fleet, FleetState } from "../src/fleet/types.js";
import { AuditLog } from "../src/ops/audit.js";

const policy = (overrides: Partial<ScalingPolicy> = {}): ScalingPolicy => ({
  enabled: true,
  minTasks: 1,
  maxTasks: 40,
  targetBacklogPerTask: 50,
  scaleOutCooldownSeconds: 10,
  scaleInCooldownSeconds: 60,
  targetOldestAgeSeconds: null,
  ...overrides,
});
const fresh = (nowMs = 0): ScalingMemory => ({ observingSinceMs: nowMs - 3_600_000, needs: [] });

describe("scaling decisions", () => {
  it("sizes the fleet as clamp(ceil(backlog ÷ target), min, max) and says so in words", () => {
    const d = decide(policy(), { nowMs: 0, backlog: 2784, running: 2, desired: 2 }, fresh());
    expect(d).toMatchObject({ action: "out", to: 40, needed: 40 });
    expect(d.cause).toBe("backlog 2,784 over 2 tasks (1,392/task), target 50/task → 56 tasks, capped at max 40");
    expect(tasksNeeded(policy(), 101)).toBe(3);
    expect(tasksNeeded(policy(), 0)).toBe(1);
    expect(tasksNeeded(policy({ minTasks: 0 }), 0)).toBe(0);
    expect(decide(policy(), { nowMs: 0, backlog: 1800, running: 2, desired: 2 }, fresh()).cause).toBe(
      "backlog 1,800 over 2 tasks (900/task), target 50/task → 36 tasks",
    );
  });

  it("holds a scale-out during the scale-out cooldown and acts when it has passed", () => {
    const memory = { ...fresh(), lastScaleOutAtMs: 100_000 };
    const obs = { backlog: 1000, running: 10, desired: 10 };
    const held = decide(policy(), { ...obs, nowMs: 104_000 }, memory);
    expect(held).toMatchObject({ action: "hold", direction: "out", to: 20, waitSeconds: 6 });
    expect(held.cause).toMatch(/held at 10: scale-out cooldown, 6 s left$/);
    expect(decide(policy(), { ...obs, nowMs: 110_000 }, memory)).toMatchObject({ action: "out", to: 20 });
    // A scale-in cooldown never delays a scale-out.
    expect(decide(policy(), { ...obs, nowMs: 104_000 }, { ...fresh(), lastScaleInAtMs: 103_000 })).toMatchObject({
      action: "out",
    });
  });

  it("scales in only after the scale-in cooldown since any activity, and not below the window's highest need", () => {
    const p = policy({ targetBacklogPerTask: 10 });
    const memory: ScalingMemory = { ...fresh(), lastScaleOutAtMs: 0 };
    remember(memory, p, 20_000, 33); // a busy moment inside the window
    const obs = { backlog: 0, running: 40, desired: 40 };
    expect(decide(p, { ...obs, nowMs: 50_000 }, memory)).toMatchObject({
      action: "hold",
      direction: "in",
      to: 33,
      waitSeconds: 10,
    });
    const d = decide(p, { ...obs, nowMs: 60_000 }, memory);
    expect(d).toMatchObject({ action: "in", to: 33 });
    expect(d.cause).toBe(
      "backlog 0 over 40 tasks (0/task), target 10/task → 0 tasks, raised to min 1; the most needed in the last 60 s was 33 → 33 tasks",
    );
    // Once the busy moment has left the window, the need alone decides.
    remember(memory, p, 81_000, 1);
    expect(decide(p, { ...obs, nowMs: 81_000 }, memory)).toMatchObject({ action: "in", to: 1 });
    // A freshly (re)started autoscaler has no window of evidence yet: it does not scale in.
    expect(decide(p, { ...obs, nowMs: 81_000 }, { observingSinceMs: 80_000, needs: [] })).toMatchObject({
      action: "hold",
      direction: "in",
    });
  });

  it("brings a desired count outside [min, max] inside at once, cooldowns or not", () => {
    const memory = { ...fresh(), lastScaleOutAtMs: 0, lastScaleInAtMs: 0 };
    expect(decide(policy({ maxTasks: 8 }), { nowMs: 1, backlog: 0, running: 12, desired: 12 }, memory)).toMatchObject({
      action: "in",
      to: 8,
      cause: "desired 12 is above max 8",
    });
    expect(decide(policy({ minTasks: 3 }), { nowMs: 1, backlog: 0, running: 0, desired: 0 }, memory)).toMatchObject({
      action: "out",
      to: 3,
    });
  });

  it("validates policy updates, naming the field and the bound", () => {
    const current = policy();
    expect(parsePolicyUpdate({ enabled: false }, current, 50)).toEqual({ ...current, enabled: false });
    const fail = (body: unknown) => {
      try {
        parsePolicyUpdate(body, current, 50);
      } catch (error) {
        return (error as { details: unknown }).details;
      }
      throw new Error("accepted");
    };
    expect(fail({ maxTasks: 51 })).toEqual([
      { field: "maxTasks", message: "must be an integer in 1..50 (MAX_WORKER_TASKS)" },
    ]);
    expect(fail({ minTasks: 41 })).toEqual([
      { field: "minTasks", message: "minTasks (41) must not exceed maxTasks (40)" },
    ]);
    expect(fail({ targetBacklogPerTask: 0 })).toEqual([
      { field: "targetBacklogPerTask", message: expect.stringMatching(/\(0, 100000\]/) },
    ]);
    expect(fail({ scaleInCooldownSeconds: -1 })).toEqual([
      { field: "scaleInCooldownSeconds", message: "must be an integer in 0..3600" },
    ]);
    expect(fail({ enabled: "yes" })).toEqual([{ field: "enabled", message: "must be true or false" }]);
    expect(fail({ target: 3 })).toEqual([{ field: "body", message: "unknown field(s): target" }]);
  });
});

describe("scaling decisions on the oldest order's age as well as the backlog", () => {
  const aged = (overrides: Partial<ScalingPolicy> = {}) => policy({ targetOldestAgeSeconds: 15, ...overrides });

  it("sizes the age term as ceil(max(running, 1) × age ÷ target): at least 1 while anything waits, 0 when nothing does", () => {
    expect(tasksForAge(15, 41, 2)).toBe(6);
    expect(tasksForAge(15, 15, 8)).toBe(8);
    expect(tasksForAge(15, 7.5, 8)).toBe(4);
    // No task running: the running count counts as 1, so the fleet is started, not left at 0.
    expect(tasksForAge(15, 0.2, 0)).toBe(1);
    expect(tasksForAge(15, 60, 0)).toBe(4);
    expect(tasksForAge(15, 0, 10)).toBe(0);
  });

  it("scales out on the age when it asks for more than the backlog, and names it as the signal", () => {
    const d = decide(aged(), { nowMs: 0, backlog: 20, oldestAgeSeconds: 41, running: 2, desired: 2 }, fresh());
    expect(d).toMatchObject({ action: "out", to: 6, needed: 6, signal: "age" });
    expect(d.cause).toBe(
      "oldest order 41 s > target 15 s (2 × 41 ÷ 15) → 6 tasks (backlog 20 over 2 tasks (10/task), target 50/task → 1 task)",
    );
  });

  it("scales out on the backlog when it asks for more than the age, and names it", () => {
    const d = decide(aged(), { nowMs: 0, backlog: 1000, oldestAgeSeconds: 20, running: 4, desired: 4 }, fresh());
    expect(d).toMatchObject({ action: "out", to: 20, signal: "backlog" });
    expect(d.cause).toBe(
      "backlog 1,000 over 4 tasks (250/task), target 50/task → 20 tasks (oldest order 20 s > target 15 s (4 × 20 ÷ 15) → 6 tasks)",
    );
  });

  it("ignores the age while the target is null, however old the oldest order", () => {
    const d = decide(policy(), { nowMs: 0, backlog: 20, oldestAgeSeconds: 600, running: 2, desired: 2 }, fresh());
    expect(d).toMatchObject({ action: "in", to: 1, signal: "backlog" });
    expect(d.cause).toBe("backlog 20 over 2 tasks (10/task), target 50/task → 1 task");
  });

  it("clamps the age's need to [min, max] and says so", () => {
    const capped = decide(aged(), { nowMs: 0, backlog: 30, oldestAgeSeconds: 300, running: 10, desired: 10 }, fresh());
    expect(capped).toMatchObject({ action: "out", to: 40, signal: "age" });
    expect(capped.cause).toMatch(
      /^oldest order 300 s > target 15 s \(10 × 300 ÷ 15\) → 200 tasks, capped at max 40 \(/,
    );
    // An empty fleet with orders waiting is started by the age term alone when min is 0.
    const started = decide(
      aged({ minTasks: 0, targetBacklogPerTask: 100 }),
      { nowMs: 0, backlog: 3, oldestAgeSeconds: 60, running: 0, desired: 0 },
      fresh(),
    );
    expect(started).toMatchObject({ action: "out", to: 4, signal: "age" });
    const raised = decide(
      aged({ minTasks: 3 }),
      { nowMs: 0, backlog: 0, oldestAgeSeconds: 0, running: 3, desired: 3 },
      fresh(),
    );
    expect(raised).toMatchObject({ action: "none", needed: 3, signal: "backlog" });
    expect(raised.cause).toBe(
      "backlog 0 over 3 tasks (0/task), target 50/task → 0 tasks, raised to min 3 (oldest order 0 s < target 15 s → 0 tasks)",
    );
  });

  it("holds an age-driven scale-out in the scale-out cooldown, and keeps the age's need through the scale-in window", () => {
    const p = aged({ scaleOutCooldownSeconds: 10, scaleInCooldownSeconds: 60 });
    const memory: ScalingMemory = { ...fresh(), lastScaleOutAtMs: 100_000 };
    const obs = { backlog: 10, oldestAgeSeconds: 45, running: 4, desired: 4 };
    const held = decide(p, { ...obs, nowMs: 104_000 }, memory);
    expect(held).toMatchObject({ action: "hold", direction: "out", to: 12, waitSeconds: 6, signal: "age" });
    expect(held.cause).toMatch(/^oldest order 45 s > target 15 s .*; held at 4: scale-out cooldown, 6 s left$/);
    const out = decide(p, { ...obs, nowMs: 110_000 }, memory);
    expect(out).toMatchObject({ action: "out", to: 12, signal: "age" });
    remember(memory, p, 110_000, out.needed);
    memory.lastScaleOutAtMs = 110_000;

    // The queue drains: neither signal asks for 12 any more, but the window still remembers 12.
    const quiet = { backlog: 0, oldestAgeSeconds: 0, running: 12, desired: 12 };
    expect(decide(p, { ...quiet, nowMs: 150_000 }, memory)).toMatchObject({ action: "none", needed: 1 });
    expect(decide(p, { ...quiet, nowMs: 171_000 }, memory)).toMatchObject({ action: "in", to: 1, signal: "backlog" });
  });

  it("validates targetOldestAgeSeconds: null or seconds in (0, 3600], naming the field and the bound", () => {
    const current = policy();
    expect(parsePolicyUpdate({ targetOldestAgeSeconds: 15 }, current, 50)).toEqual({
      ...current,
      targetOldestAgeSeconds: 15,
    });
    expect(parsePolicyUpdate({ targetOldestAgeSeconds: null }, { ...current, targetOldestAgeSeconds: 15 }, 50)).toEqual(
      current,
    );
    // Absent keeps the value, like every other field.
    expect(parsePolicyUpdate({ enabled: false }, { ...current, targetOldestAgeSeconds: 15 }, 50)).toMatchObject({
      targetOldestAgeSeconds: 15,
    });
    for (const bad of [0, -5, 3601, "15", true]) {
      expect(() => parsePolicyUpdate({ targetOldestAgeSeconds: bad }, current, 50)).toThrow(
        expect.objectContaining({
          details: [{ field: "targetOldestAgeSeconds", message: "must be null or a number of seconds in (0, 3600]" }],
        }),
      );
    }
  });
});

/** A fleet whose tasks start the moment they are asked for: the autoscaler's maths, not a scheduler, is under test. */
class InstantFleet implements Fleet {
  readonly kind = "local" as const;
  state: FleetState = { desiredCount: 1, running: 1, pending: 0, stopping: 0, concurrency: 5, restarts: 0, tasks: [] };
  calls: number[] = [];
  failNext = false;
  async describe() {
    return { ...this.state };
  }
  async setDesiredCount(count: number) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("throttled");
    }
    this.calls.push(count);
    this.state = { ...this.state, desiredCount: count, running: count };
    return this.describe();
  }
  async setConcurrency(concurrency: number) {
    this.state = { ...this.state, concurrency };
    return this.describe();
  }
}

describe("LocalAutoscaler (fake timers)", () => {
  let t: ReturnType<typeof tempSqliteStore>;
  let fleet: InstantFleet;
  let backlog: BacklogReading;
  let autoscaler: LocalAutoscaler;
  let activities: ActivityLog;
  let audit: AuditLog;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    vi.setSystemTime(new Date("2026-11-26T12:00:00Z"));
    t = tempSqliteStore();
    fleet = new InstantFleet();
    backlog = { backlog: 0, queued: 0, failed: 0, processing: 0, oldestAgeSeconds: 0 };
    activities = new ActivityLog(t.store);
    audit = new AuditLog(t.store);
    autoscaler = new LocalAutoscaler({
      store: t.store,
      fleet,
      backlog: { read: async () => backlog },
      activities,
      audit,
      log: createLogger({}, { write: () => {} }),
      defaults: policy({
        enabled: false,
        targetBacklogPerTask: 10,
        scaleOutCooldownSeconds: 10,
        scaleInCooldownSeconds: 30,
      }),
      evaluationIntervalMs: 2000,
    });
  });
  afterEach(async () => {
    await autoscaler.close();
    vi.useRealTimers();
    await t.remove();
  });

  it("does nothing while the policy is off", async () => {
    autoscaler.start();
    backlog = { ...backlog, backlog: 500, queued: 500 };
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fleet.calls).toEqual([]);
    expect((await autoscaler.state()).controlledBy).toBe("operator");
  });

  it("follows the backlog every evaluation, respecting both cooldowns, and records each decision with its cause", async () => {
    const scaled: unknown[] = [];
    autoscaler.on("scaled", (e) => scaled.push(e));
    autoscaler.start();
    backlog = { ...backlog, backlog: 95, queued: 95 };
    // Enabling evaluates at once (t = 0) rather than at the next tick.
    await autoscaler.setPolicy({ ...(await autoscaler.state()), enabled: true }, "ops-alice");
    await vi.advanceTimersByTimeAsync(2000);
    expect(fleet.calls).toEqual([10]);

    // The backlog keeps growing, but the scale-out cooldown (10 s) holds the next step…
    backlog = { ...backlog, backlog: 300, queued: 300 };
    await vi.advanceTimersByTimeAsync(6000);
    expect(fleet.calls).toEqual([10]);
    // …until it has passed (t = 10 s).
    await vi.advanceTimersByTimeAsync(2000);
    expect(fleet.calls).toEqual([10, 30]);

    // The queue empties: the fleet stays while the need of the last 30 s still says 30…
    backlog = { ...backlog, backlog: 0, queued: 0 };
    await vi.advanceTimersByTimeAsync(28_000);
    expect(fleet.calls).toEqual([10, 30]);
    // …then scales in to the minimum once a full window saw no need.
    await vi.advanceTimersByTimeAsync(4000);
    expect(fleet.calls).toEqual([10, 30, 1]);
    expect(scaled).toEqual([
      { direction: "out", from: 1, to: 10 },
      { direction: "out", from: 10, to: 30 },
      { direction: "in", from: 30, to: 1 },
    ]);

    const log = await autoscaler.activities(20);
    const actions = log.filter((a) => a.status === "successful" && a.direction !== "none");
    expect(actions.map((a) => [a.direction, a.from, a.to])).toEqual([
      ["in", 30, 1],
      ["out", 10, 30],
      ["out", 1, 10],
    ]);
    expect(actions[2]?.cause).toBe("backlog 95 over 1 task (95/task), target 10/task → 10 tasks");
    // The held scale-out is logged once, not at each of the evaluations it was held at.
    const holds = log.filter((a) => a.status === "held");
    expect(holds.map((a) => [a.direction, a.from, a.to])).toEqual([["out", 10, 30]]);
    expect(holds[0]?.cause).toMatch(/held at 10: scale-out cooldown, 6 s left$/);
    expect(log.at(-1)?.cause).toMatch(/^ops-alice enabled the policy/);
    // The autoscaler's own changes are audited as actor "autoscaler".
    const entries = await audit.list();
    expect(entries.filter((e) => e.actor === "autoscaler").map((e) => e.after)).toEqual([
      { desiredCount: 1 },
      { desiredCount: 30 },
      { desiredCount: 10 },
    ]);
  });

  it("keeps its cooldown clocks across a restart of the API", async () => {
    await autoscaler.setPolicy({ ...(await autoscaler.state()), enabled: true }, "ops");
    backlog = { ...backlog, backlog: 50, queued: 50 };
    await autoscaler.evaluate();
    expect(fleet.calls).toEqual([5]);
    await autoscaler.close();

    const again = new LocalAutoscaler({
      store: t.store,
      fleet,
      backlog: { read: async () => ({ ...backlog, backlog: 200, queued: 200 }) },
      activities,
      audit,
      log: createLogger({}, { write: () => {} }),
      defaults: policy(),
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(await again.evaluate()).toMatchObject({ action: "hold", direction: "out", waitSeconds: 5 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(await again.evaluate()).toMatchObject({ action: "out", to: 20 });
    await again.close();
  });

  it("stands aside while an operator holds the wheel, until the policy is enabled again", async () => {
    await autoscaler.setPolicy({ ...(await autoscaler.state()), enabled: true }, "ops");
    const suspended = await autoscaler.suspend("ops-bob", "ops-bob set the desired count by hand (1 → 4)");
    expect(suspended).toMatchObject({
      enabled: false,
      controlledBy: "operator",
      suspended: { by: "ops-bob", reason: "ops-bob set the desired count by hand (1 → 4)" },
    });
    backlog = { ...backlog, backlog: 400, queued: 400 };
    expect(await autoscaler.evaluate()).toBeUndefined();
    expect(fleet.calls).toEqual([]);

    const resumed = await autoscaler.setPolicy({ ...suspended, enabled: true }, "ops-bob");
    expect(resumed.controlledBy).toBe("autoscaler");
    expect(resumed.suspended).toBeUndefined();
    expect(await autoscaler.evaluate()).toMatchObject({ action: "out", to: 40 });
  });

  it("scales out on the oldest order's age and records the signal and the age with the activity", async () => {
    await autoscaler.setPolicy({ ...(await autoscaler.state()), enabled: true, targetOldestAgeSeconds: 10 }, "ops");
    backlog = { ...backlog, backlog: 8, queued: 8, oldestAgeSeconds: 35 };
    expect(await autoscaler.evaluate()).toMatchObject({ action: "out", to: 4, signal: "age" });
    expect(fleet.calls).toEqual([4]);
    const [activity] = await autoscaler.activities(1);
    expect(activity).toMatchObject({
      direction: "out",
      status: "successful",
      from: 1,
      to: 4,
      signal: "age",
      oldestAgeSeconds: 35,
      backlog: 8,
    });
    expect(activity?.cause).toMatch(/^oldest order 35 s > target 10 s \(1 × 35 ÷ 10\) → 4 tasks \(backlog 8/);
    expect((await autoscaler.state()).lastEvaluation).toMatchObject({ signal: "age", oldestAgeSeconds: 35 });

    // The backlog takes over when it asks for more.
    vi.advanceTimersByTime(10_000);
    backlog = { ...backlog, backlog: 90, queued: 90, oldestAgeSeconds: 5 };
    expect(await autoscaler.evaluate()).toMatchObject({ action: "out", to: 9, signal: "backlog" });
    expect((await autoscaler.activities(1))[0]).toMatchObject({ signal: "backlog", to: 9 });
  });

  it("reads a policy stored before the age target existed as backlog only", async () => {
    const { targetOldestAgeSeconds: _, ...old } = policy({ targetBacklogPerTask: 10 });
    await t.store.setSetting("autoscaling", { policy: old });
    expect(await autoscaler.state()).toMatchObject({ enabled: true, targetOldestAgeSeconds: null });
  });

  it("records a failed fleet call and does not start a cooldown for it", async () => {
    await autoscaler.setPolicy({ ...(await autoscaler.state()), enabled: true }, "ops");
    backlog = { ...backlog, backlog: 100, queued: 100 };
    fleet.failNext = true;
    await autoscaler.evaluate();
    const [failed] = await autoscaler.activities(1);
    expect(failed).toMatchObject({ status: "failed", direction: "out", to: 10 });
    expect(failed?.cause).toMatch(/failed: throttled$/);
    // No cooldown was started by the failure: the next evaluation acts.
    expect(await autoscaler.evaluate()).toMatchObject({ action: "out", to: 10 });
    expect(fleet.calls).toEqual([10]);
  });
});
