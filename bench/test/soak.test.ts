import { resolve } from "node:path";
import { tempDir } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { linearFit, metricValue, type ProcessSample, sampleFromMetrics, trendOf } from "../soak/analysis.js";
import { formatSoakReport, runSoak } from "../soak/run.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const MB = 1024 * 1024;

/** A series every 5 s: `mb(t)` plus GC's sawtooth (±6 MB over 30 s). */
function series(seconds: number, mb: (t: number) => number): ProcessSample[] {
  return Array.from({ length: seconds / 5 + 1 }, (_, i) => {
    const t = i * 5;
    const saw = ((t % 30) / 30) * 12 - 6;
    return {
      atSeconds: t,
      rssBytes: (mb(t) + saw) * MB,
      heapUsedBytes: (mb(t) / 3 + saw / 2) * MB,
      loopLagP99Ms: 11,
      loopLagMaxMs: 20,
    };
  });
}

describe("soak analysis", () => {
  it("reads prom-client's process metrics, labelled or not", () => {
    const text = [
      "# HELP process_resident_memory_bytes Resident memory size in bytes.",
      "process_resident_memory_bytes 83886080",
      'nodejs_heap_size_used_bytes{task="w1"} 20971520',
      "nodejs_eventloop_lag_p99_seconds 0.0123",
      "nodejs_eventloop_lag_max_seconds 0.05",
    ].join("\n");
    expect(metricValue(text, "process_resident_memory_bytes")).toBe(83886080);
    expect(metricValue(text, "nodejs_heap_size_used_bytes")).toBe(20971520);
    expect(metricValue(text, "nodejs_eventloop_lag_p99")).toBeUndefined();
    expect(sampleFromMetrics(text, 5)).toEqual({
      atSeconds: 5,
      rssBytes: 83886080,
      heapUsedBytes: 20971520,
      loopLagP99Ms: 12.3,
      loopLagMaxMs: 50,
    });
    expect(sampleFromMetrics("process_resident_memory_bytes 1", 0)).toBeUndefined();
  });

  it("fits a line", () => {
    expect(
      linearFit([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toEqual({ slope: 2, intercept: 1 });
    expect(linearFit([[0, 4]])).toEqual({ slope: 0, intercept: 4 });
  });

  it("calls a flat sawtooth steady, a leak of 2 MB/min growing, and a warm-up ramp neither", () => {
    const flat = trendOf(
      series(600, () => 90),
      { warmupSeconds: 60 },
    );
    expect(flat.verdict).toBe("steady");
    expect(Math.abs(flat.rssSlopeMbPerMinute)).toBeLessThan(0.2);
    expect(flat.loopLagP99MedianMs).toBe(11);

    const leak = trendOf(
      series(600, (t) => 90 + (2 * t) / 60),
      { warmupSeconds: 60 },
    );
    expect(leak.verdict).toBe("grows");
    expect(leak.rssSlopeMbPerMinute).toBeCloseTo(2, 0);

    // Fills up in the first minute, then flat: the warm-up is left out.
    const warm = trendOf(
      series(600, (t) => (t < 60 ? 40 + t : 100)),
      { warmupSeconds: 60 },
    );
    expect(warm.verdict).toBe("steady");

    expect(
      trendOf(
        series(30, () => 90),
        { warmupSeconds: 0 },
      ).verdict,
    ).toBe("too short");
  });
});

/**
 * The soak's machinery for 20 s: samples come from the API and every worker task, orders are all
 * accounted for. Its growth verdict is not asserted — 20 s is mostly warm-up; `npm run soak` is the measurement.
 */
describe("soak run (20 s, mechanics only)", () => {
  it("samples RSS, heap and event-loop delay of the API and each worker, and accounts for every order", async () => {
    const data = tempDir("surge-soak-ci-");
    try {
      const report = await runSoak({
        repoRoot,
        dataDir: data.path,
        minutes: 1 / 3,
        ratePerSecond: 20,
        workerTasks: 2,
        workerConcurrency: 10,
        paymentDurationMs: 50,
        sampleIntervalSeconds: 2,
        warmupSeconds: 4,
      });
      const text = formatSoakReport(report);
      console.info(text);
      expect(report.processes.map((p) => p.name).sort()).toEqual(["api", "worker w1", "worker w2"]);
      for (const p of [...report.processes, report.runner]) {
        expect(p.samples.length, p.name).toBeGreaterThanOrEqual(6);
        for (const s of p.samples) {
          expect(s.rssBytes, p.name).toBeGreaterThan(10 * MB);
          expect(s.heapUsedBytes, p.name).toBeGreaterThan(MB);
          expect(Number.isFinite(s.loopLagP99Ms) && s.loopLagP99Ms >= 0, p.name).toBe(true);
        }
        expect(["steady", "grows", "too short"]).toContain(p.trend.verdict);
      }
      expect(report.reconciliation.accepted).toBeGreaterThan(300);
      expect(report.audit).toMatchObject({ ok: true, settled: true });
      expect(report.reconciliation.byStatus.paid).toBe(report.reconciliation.accepted);
      expect(text).toMatch(/\| api \| \d+\/\d+ \|/);
    } finally {
      data.remove();
    }
  }, 120_000);
});
