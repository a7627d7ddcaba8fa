import { usersSpec } from "@surge/loadgen/testing";
import { describe, expect, it } from "vitest";
import { compare, defaultPair, figures, improvement } from "../src/lib/comparison";
import type { BurstSummary } from "../src/lib/ops";

const lat = (avg: number, max: number) => ({
  min: 0,
  avg,
  p50: avg,
  p66: 0,
  p75: 0,
  p80: 0,
  p90: 0,
  p95: 0,
  p98: 0,
  p99: max,
  p999: 0,
  p9999: 0,
  max,
});

function burst(over: Partial<BurstSummary> & { mode: "sync" | "async"; id: string }): BurstSummary {
  const { mode, ...rest } = over;
  return {
    status: "completed",
    spec: usersSpec({ mode }),
    target: "http://127.0.0.1:8080",
    startedBy: "operator",
    startedAt: new Date(0).toISOString(),
    elapsedSeconds: 60,
    requests: 0,
    failures: 0,
    failureRatio: 0,
    throughputPerSecond: 0,
    failuresPerSecond: 0,
    currentRequestsPerSecond: 0,
    firstResponseAtSeconds: 0,
    lastResponseAtSeconds: 0,
    inFlight: 0,
    dropped: 0,
    abandoned: 0,
    latencyMs: lat(0, 0),
    errors: {},
    changes: [],
    ...rest,
  } as BurstSummary;
}

describe("sync vs async comparison", () => {
  it("fed the study's own runs, prints the study's improvements", () => {
    const sync = burst({
      id: "s",
      mode: "sync",
      requests: 95,
      throughputPerSecond: 1.67,
      latencyMs: lat(10_707, 11_891),
      abandoned: 15,
    });
    const async = burst({
      id: "a",
      mode: "async",
      requests: 2884,
      throughputPerSecond: 48.27,
      latencyMs: lat(110, 459),
    });
    const rows = Object.fromEntries(compare(sync, async).map((r) => [r.key, r]));
    expect(rows.totalRequests?.improvement).toBeCloseTo(30.4, 1);
    expect(rows.throughputPerSecond?.improvement).toBeCloseTo(28.9, 1);
    expect(rows.avgResponseMs?.improvement).toBeCloseTo(97.3, 1);
    expect(rows.maxResponseMs?.improvement).toBeCloseTo(25.9, 1);
    expect(rows.totalRequests?.studyAsync).toBe(2884);
    expect(rows.lostRatio?.async).toBe(0);
  });

  it("counts failures, unanswered requests and dropped arrivals as lost orders", () => {
    const f = figures(burst({ id: "x", mode: "sync", requests: 100, failures: 5, abandoned: 15, dropped: 5 }));
    expect(f.lostRatio).toBeCloseTo(25 / 120, 9);
    expect(f.successRatio).toBeCloseTo(0.95, 9);
  });

  it("reads improvement the right way round", () => {
    expect(improvement(10, 30, "higher")).toBe(3);
    expect(improvement(300, 100, "lower")).toBe(3);
    expect(Number.isNaN(improvement(0, 5, "higher"))).toBe(true);
  });

  it("pairs the newest async burst with the newest sync burst of the same load", () => {
    const list = [
      burst({ id: "a2", mode: "async", requests: 10 }),
      burst({
        id: "s-other",
        mode: "sync",
        requests: 10,
        spec: {
          model: "arrival-rate",
          mode: "sync",
          ratePerSecond: 5,
          durationSeconds: 60,
          maxInFlight: 10,
          timeoutMs: 1000,
        },
      }),
      burst({ id: "s1", mode: "sync", requests: 10 }),
      burst({ id: "running", mode: "sync", requests: 10, status: "running" }),
    ];
    const pair = defaultPair(list);
    expect(pair.async?.id).toBe("a2");
    expect(pair.sync?.id).toBe("s1");
  });
});
