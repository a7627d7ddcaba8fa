import { join } from "node:path";
import { LocalFleet } from "@surge/api/fleet/local";
import { FleetUnavailableError } from "@surge/api/fleet/types";
import { fleetConformance } from "@surge/api/testing";
import { type FleetControlServer, startFleetControl } from "@surge/local/fleet-control";
import { TaskSupervisor } from "@surge/local/supervisor";
import {
  createTestTopology,
  type Emulator,
  enqueueOrders,
  startEmulator,
  type TestTopology,
  tempSqliteStore,
  waitFor,
  workerEnv,
  workerScript,
} from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The local fleet end to end: LocalFleet → fleet control endpoint → TaskSupervisor → real worker processes. */
describe("LocalFleet", () => {
  let emulator: Emulator;
  let topology: TestTopology;
  let t: ReturnType<typeof tempSqliteStore>;
  let supervisor: TaskSupervisor;
  let control: FleetControlServer;
  let fleet: LocalFleet;
  const exits: Array<{ taskId: string; expected: boolean }> = [];

  beforeAll(async () => {
    let script: string;
    [emulator, script] = await Promise.all([startEmulator(), workerScript()]);
    // A stopping task aborts its in-flight long poll; messages the broker had already handed to that
    // poll stay invisible until the visibility timeout. A short timeout keeps such a straggler's delay short.
    topology = await createTestTopology(emulator, { visibilityTimeoutSeconds: 10 });
    t = tempSqliteStore();
    supervisor = new TaskSupervisor({
      script,
      // Payments long enough that a scale-in always catches tasks mid-payment.
      env: workerEnv(emulator, topology, t.dataDir, { PAYMENT_DURATION_MS: "400", VISIBILITY_TIMEOUT_SECONDS: "10" }),
      desiredCount: 1,
      concurrency: 5,
      logDir: join(t.dataDir, "logs"),
      stopTimeoutMs: 15_000,
    });
    supervisor.on("task-exited", (e) => exits.push(e));
    supervisor.start();
    control = await startFleetControl({ supervisor, maxTasks: 8, token: "local-fleet-test-token", port: 0 });
    fleet = new LocalFleet({ url: control.url, token: "local-fleet-test-token" });
    await waitFor(() => supervisor.snapshot().running === 1, { what: "the first task" });
  });
  afterAll(async () => {
    await control?.close();
    await supervisor?.close();
    await emulator?.stop();
    await t?.remove();
  });

  fleetConformance(() => fleet);

  it("scales 1 → 4 → 1 under a backlog and drains gracefully: every order paid exactly once", async () => {
    await fleet.setDesiredCount(1);
    await waitFor(async () => (await fleet.describe()).tasks.length === 1, { what: "1 task" });
    const before = await t.store.reconcile();
    const ids = await enqueueOrders(t.store, emulator, topology.queueUrl, 160);
    const exitsBefore = exits.length;

    await fleet.setDesiredCount(4);
    await waitFor(async () => (await fleet.describe()).running === 4, { what: "4 running" });
    // Let every task take work, then scale in while they hold orders.
    await waitFor(async () => (await fleet.describe()).tasks.every((task) => (task.processed ?? 0) > 0), {
      what: "every task to have paid orders",
    });
    const atScaleIn = await t.store.countByStatus();
    const busy = (await fleet.describe()).tasks.filter((task) => (task.inFlight ?? 0) > 0).length;
    await fleet.setDesiredCount(1);

    const one = await waitFor(
      async () => {
        const s = await fleet.describe();
        return s.tasks.length === 1 && s.running === 1 ? s : undefined;
      },
      { what: "scale-in to 1", timeoutMs: 30_000 },
    );
    expect(one.desiredCount).toBe(1);
    await waitFor(async () => (await t.store.countByStatus()).paid === before.byStatus.paid + ids.length, {
      what: "all orders paid",
      timeoutMs: 40_000,
    });

    // The scale-in happened mid-backlog, with tasks holding orders…
    expect(atScaleIn.paid - before.byStatus.paid).toBeLessThan(ids.length);
    expect(busy).toBeGreaterThan(0);
    // …the stopped tasks exited because they were asked to, not by crashing…
    const stopped = exits.slice(exitsBefore);
    expect(stopped).toHaveLength(3);
    expect(stopped.every((e) => e.expected)).toBe(true);
    expect((await fleet.describe()).restarts).toBe(0);
    // …and nothing was lost or paid twice.
    const after = await t.store.reconcile();
    expect(after).toMatchObject({ inProgress: 0, paidTwice: 0, paidWithoutCharge: 0 });
    expect(after.byStatus.dead).toBe(0);
    expect(after.charges - before.charges).toBe(ids.length);
  });

  it("says plainly when the control endpoint is unreachable or refuses", async () => {
    const nowhere = new LocalFleet({ url: "http://127.0.0.1:9", timeoutMs: 1000 });
    await expect(nowhere.describe()).rejects.toBeInstanceOf(FleetUnavailableError);
    const wrongToken = new LocalFleet({ url: control.url, token: "not-the-token" });
    await expect(wrongToken.describe()).rejects.toThrow(/401/);
    await expect(fleet.setDesiredCount(9)).rejects.toThrow(/0\.\.8/);
  });
});
