import { resolve } from "node:path";
import { tempDir } from "@surge/testing";
import { afterAll, describe, expect, it } from "vitest";
import { type ChaosReport, formatChaosReport, runChaos } from "../chaos/run.js";

const repoRoot = resolve(import.meta.dirname, "../..");

/**
 * `npm run chaos` in seconds instead of minutes: the same faults at the same points of a 12 s sale,
 * payments of 500 ms on 2 tasks (20/s) under a 30/s sale so a backlog is on the queue when the
 * emulator restarts, a 3 s publish outage, and the same audit.
 */
describe("chaos run (reduced)", () => {
  const data = tempDir("surge-chaos-ci-");
  afterAll(() => data.remove());

  it("loses no order, pays none twice and explains every dead one through kills, an emulator restart and a publish outage", async () => {
    const lines: string[] = [];
    const report: ChaosReport = await runChaos({
      repoRoot,
      dataDir: data.path,
      durationSeconds: 12,
      ratePerSecond: 30,
      workerTasks: 2,
      workerConcurrency: 10,
      paymentDurationMs: 500,
      paymentFailureRate: 0.25,
      publishOutageSeconds: 3,
      visibilityTimeoutSeconds: 4,
      maxReceiveCount: 5,
      republishAfterSeconds: 3,
      drainTimeoutSeconds: 90,
      seed: 7,
      log: (line) => lines.push(line),
    });
    const text = formatChaosReport(report);
    console.info(text);

    expect(report.faults.map((f) => f.kind)).toEqual([
      "kill -9 worker",
      "kill -9 api",
      "kill -9 worker",
      "kill -9 worker",
      "emulator restart",
      "publish outage",
      "kill -9 api",
      "kill -9 worker",
    ]);
    expect(report.answered202, text).toBeGreaterThan(50);
    expect(report.clientView.lost, text).toBe(0);
    expect(report.reconciliation.paidTwice, text).toBe(0);
    expect(report.reconciliation.paidWithoutCharge, text).toBe(0);
    expect(report.reconciliation.deadUnexplained, text).toBe(0);
    expect(
      Object.keys(report.deadReasons).every((reason) => reason !== "(no reason)"),
      text,
    ).toBe(true);
    expect(report.reconciliation.accepted, text).toBeGreaterThanOrEqual(report.answered202);
    expect(report.clientView.paid + report.clientView.dead, text).toBe(report.answered202);
    expect(report.drainSeconds, text).toBeDefined();
    // What the emulator lost, the store published again.
    if (report.messagesLost > 0) expect(report.republished, text).toBeGreaterThan(0);
    expect(report.passed, text).toBe(true);
    expect(text).toContain("PASS: 0 lost, 0 paid twice, every dead order explained");
  }, 180_000);
});
