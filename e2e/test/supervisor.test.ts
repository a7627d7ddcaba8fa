import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFleetControl } from "@surge/local/fleet-control";
import { TaskSupervisor } from "@surge/local/supervisor";
import {
  createTestTopology,
  type Emulator,
  startEmulator,
  type TestTopology,
  tempDir,
  waitFor,
  workerEnv,
  workerScript,
} from "@surge/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

type SupervisorOptions = ConstructorParameters<typeof TaskSupervisor>[0];

/** A supervisor of a stand-in task `script` (not the worker: no queue, no store), logging under `dir`. */
function standInSupervisor(script: string, dir: string, options: Partial<SupervisorOptions> = {}): TaskSupervisor {
  return new TaskSupervisor({
    script,
    env: { PATH: process.env.PATH },
    desiredCount: 1,
    concurrency: 5,
    logDir: join(dir, "logs"),
    ...options,
  });
}

describe("TaskSupervisor with real worker tasks", () => {
  let emulator: Emulator;
  let topology: TestTopology;
  let dir: ReturnType<typeof tempDir>;
  let script: string;
  const supervisors: TaskSupervisor[] = [];

  beforeAll(async () => {
    [emulator, script] = await Promise.all([startEmulator(), workerScript()]);
    topology = await createTestTopology(emulator);
    dir = tempDir();
  });
  afterEach(async () => {
    await Promise.all(supervisors.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await emulator.stop();
    dir.remove();
  });

  const supervise = (options: Partial<SupervisorOptions> = {}) => {
    const s = new TaskSupervisor({
      script,
      env: workerEnv(emulator, topology, dir.path),
      desiredCount: 1,
      concurrency: 5,
      logDir: join(dir.path, "logs"),
      targetsFile: join(dir.path, "prometheus/workers.json"),
      stopTimeoutMs: 15_000,
      ...options,
    });
    supervisors.push(s);
    s.start();
    return s;
  };

  it("replaces a task killed with SIGKILL and counts the restart", async () => {
    const s = supervise({ desiredCount: 2 });
    await waitFor(() => s.snapshot().running === 2, { what: "2 running tasks" });
    const victim = s.snapshot().tasks[0];
    expect(victim).toBeDefined();
    const exits: Array<{ taskId: string; expected: boolean }> = [];
    s.on("task-exited", (e) => exits.push(e));

    expect(s.signalTask(victim?.taskId ?? "", "SIGKILL")).toBe(true);

    await waitFor(
      () => {
        const snap = s.snapshot();
        return snap.running === 2 && !snap.tasks.some((t) => t.taskId === victim?.taskId);
      },
      { what: "a replacement task running" },
    );
    expect(exits).toEqual([expect.objectContaining({ taskId: victim?.taskId, expected: false })]);
    expect(s.snapshot()).toMatchObject({ desiredCount: 2, restarts: 1, pending: 0 });
  });

  it("changes concurrency live: the same processes report the new value", async () => {
    const s = supervise({ desiredCount: 1, concurrency: 2 });
    await waitFor(() => s.snapshot().tasks[0]?.metricsPort !== undefined && s.snapshot().running === 1);
    const before = s.snapshot().tasks[0];
    const concurrencyOf = async () => {
      const text = await (await fetch(`http://127.0.0.1:${before?.metricsPort}/metrics`)).text();
      return Number(/^surge_worker_concurrency\{[^}]*\} (\d+)$/m.exec(text)?.[1]);
    };
    expect(await concurrencyOf()).toBe(2);

    s.setConcurrency(7);

    await waitFor(async () => (await concurrencyOf()) === 7, { what: "the task to report concurrency 7" });
    expect(s.snapshot().tasks.map((t) => [t.taskId, t.pid])).toEqual([[before?.taskId, before?.pid]]);
    expect(s.snapshot().concurrency).toBe(7);
    expect(() => s.setConcurrency(0)).toThrow(/1\.\.200/);
    expect(() => s.setConcurrency(201)).toThrow(/1\.\.200/);
  });

  it("backs off between restarts of a task that keeps crashing", async () => {
    const crasher = join(dir.path, "crash.mjs");
    writeFileSync(crasher, "setTimeout(() => process.exit(3), 20);\n");
    const starts: number[] = [];
    const s = standInSupervisor(crasher, dir.path, {
      concurrency: 1,
      restartBaseDelayMs: 150,
      restartMaxDelayMs: 600,
      healthyAfterMs: 60_000,
    });
    supervisors.push(s);
    s.on("task-started", () => starts.push(performance.now()));
    s.start();

    await waitFor(() => starts.length >= 5, { what: "5 starts", timeoutMs: 15_000 });
    await s.close();
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? t));
    // 1st crash: replaced at once; then 150, 300, 600 ms (capped) of backoff after each quick crash.
    expect(gaps[1]).toBeGreaterThanOrEqual(150);
    expect(gaps[2]).toBeGreaterThanOrEqual(300);
    expect(gaps[3]).toBeGreaterThanOrEqual(600);
    expect(s.snapshot().restarts).toBeGreaterThanOrEqual(4);
  });
});

describe("fleet control endpoint", () => {
  let dir: ReturnType<typeof tempDir>;
  let supervisor: TaskSupervisor;
  let control: Awaited<ReturnType<typeof startFleetControl>>;
  const token = "fleet-control-test-token";
  let idle: string;

  beforeAll(async () => {
    dir = tempDir();
    idle = join(dir.path, "idle.mjs");
    // A task that only says it is ready and waits for SIGTERM: the endpoint's contract, not the worker's.
    writeFileSync(
      idle,
      "process.send?.({ type: 'ready', metricsPort: 0 });\n" +
        "const keep = setInterval(() => {}, 1000);\n" +
        "process.on('SIGTERM', () => { clearInterval(keep); process.exit(0); });\n" +
        "process.on('disconnect', () => process.exit(0));\n",
    );
    supervisor = standInSupervisor(idle, dir.path);
    supervisor.start();
    control = await startFleetControl({ supervisor, maxTasks: 3, token, port: 0 });
  });
  afterAll(async () => {
    await control.close();
    await supervisor.close();
    dir.remove();
  });

  const call = (method: string, body?: unknown, auth = `Bearer ${token}`) =>
    fetch(`${control.url}/v1/fleet`, {
      method,
      headers: { "content-type": "application/json", authorization: auth },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  it("listens on loopback only and refuses callers without the token", async () => {
    expect(control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call("GET", undefined, "")).status).toBe(401);
    expect((await call("PUT", { desiredCount: 2 }, "Bearer wrong-token-wrong-token")).status).toBe(401);
    expect(supervisor.desiredCount).toBe(1);
  });

  it("reads and changes the fleet, refusing values out of bounds with the field and bound", async () => {
    const state = await (await call("GET")).json();
    expect(state).toMatchObject({ desiredCount: 1, concurrency: 5, maxTasks: 3, restarts: 0 });

    const res = await call("PUT", { desiredCount: 3, concurrency: 9 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ desiredCount: 3, concurrency: 9 });
    await waitFor(() => supervisor.snapshot().running === 3, { what: "3 running" });

    const tooMany = await call("PUT", { desiredCount: 4 });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({
      details: [{ field: "desiredCount", message: expect.stringMatching(/0\.\.3/) }],
    });
    const badConcurrency = await call("PUT", { concurrency: 0 });
    expect(badConcurrency.status).toBe(400);
    expect(await badConcurrency.json()).toMatchObject({ details: [{ field: "concurrency" }] });
    expect((await call("PUT", {})).status).toBe(400);
    expect((await call("POST", {})).status).toBe(405);

    await call("PUT", { desiredCount: 1 });
    await waitFor(() => supervisor.snapshot().tasks.length === 1, { what: "scale-in to 1" });
    expect(supervisor.snapshot().restarts).toBe(0);
  });

  it("starts a big scale-out a few tasks at a time, so start-up never starves the running ones", async () => {
    const s = standInSupervisor(idle, dir.path, { desiredCount: 0, maxPendingTasks: 2 });
    let mostPending = 0;
    s.on("change", (snap) => {
      mostPending = Math.max(mostPending, snap.pending);
    });
    s.start();
    try {
      s.setDesiredCount(6);
      expect(s.snapshot().pending).toBe(2);
      await waitFor(() => s.snapshot().running === 6, { what: "6 running" });
      expect(mostPending).toBe(2);
    } finally {
      await s.close();
    }
  });
});
