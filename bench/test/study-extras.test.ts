import { describe, expect, it } from "vitest";
import { type ConcurrencyResources, summary } from "../study/concurrency-resources.js";
import { type DrainResult, drainTheory, renderDrainReport, renderDrainSvg, thin } from "../study/drain.js";
import { type LambdaBurstResult, lambdaBurstTheory, renderLambdaBurst } from "../study/lambda-burst.js";

describe("Lambda under the full flash sale: theory", () => {
  it("starts an environment per arrival until the first is free again: λ · (init + payment)", () => {
    // 2,888 orders in 60 s is 48.13/s; 3 s payments and 140 ms inits keep 48.13 × 3.14 = 151.2 busy.
    const t = lambdaBurstTheory({ orders: 2888, seconds: 60, paymentMs: 3000, initMs: 140 });
    expect(t.cold).toBe(152);
    expect(t.share).toBeCloseTo(152 / 2888, 10);
  });

  it("gives the same share at a third of the rate, and never more cold starts than orders", () => {
    const third = lambdaBurstTheory({ orders: 960, seconds: 60, paymentMs: 3000, initMs: 140 });
    expect(third.share).toBeCloseTo(
      lambdaBurstTheory({ orders: 2880, seconds: 60, paymentMs: 3000, initMs: 140 }).share,
      2,
    );
    expect(lambdaBurstTheory({ orders: 10, seconds: 1, paymentMs: 3000, initMs: 100 }).cold).toBe(10);
  });

  it("reports the measured share beside the study's 17–35% with its lines, and says the estimate's own counts disagree", () => {
    const result: LambdaBurstResult = {
      generatedAt: "2026-12-05 12:00:00 UTC",
      host: "2 × test CPU",
      loadAverage: 2,
      wallSeconds: 90,
      spec: { orders: 2888, seconds: 60, paymentMs: 3000, reservedConcurrency: 1000 },
      sent: 2888,
      arrivalsSeconds: 60,
      stoppedByMemoryGuard: false,
      finishedInTime: true,
      outcomes: { success: 2888, dead: 0 },
      totals: { cold: 160, warm: 2728, errors: 0, throttles: 0 },
      peakEnvironments: 160,
      peakBusy: 150,
      lowestAvailableMb: 9000,
      initMs: { p50: 150, p95: 400, max: 900, count: 160 },
      theory: lambdaBurstTheory({ orders: 2888, seconds: 60, paymentMs: 3000, initMs: 150 }),
    };
    const md = renderLambdaBurst(result);
    expect(md).toContain("| Cold-start share | 5.3% | **5.5%** | 17.0%–35.0% (flash-sale-report.txt:4891-4895) |");
    expect(md).toContain("(the study's 2,888)");
    expect(md).toContain("3.5% to 500 ÷ 2,888 = 17.3%");
    expect(md).toContain("(3.0 s + 0.15 s median init) ÷ 60 s = 5.3%");
    expect(md).not.toContain("memory guard stopped");
    expect(renderLambdaBurst({ ...result, stoppedByMemoryGuard: true, sent: 1200 })).toContain(
      "memory guard stopped the arrivals early",
    );
  });
});

describe("the single-worker drain picture", () => {
  it("thins samples evenly and keeps the last", () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const kept = thin(xs, 100);
    expect(kept).toHaveLength(101);
    expect(kept[0]).toBe(0);
    expect(kept[50]).toBe(5000);
    expect(kept.at(-1)).toBe(9999);
    expect(thin([1, 2, 3], 100)).toEqual([1, 2, 3]);
  });

  it("draws the theory from the backlog when the worker starts, falling at one order per 3 s", () => {
    // 3,600 orders at 1/3 per second take 10,800 s, 180 minutes.
    expect(drainTheory(3600, 1)).toEqual([
      [1, 3600],
      [181, 0],
    ]);
  });

  it("puts the drain on study time: real time divided by the time scale", () => {
    const result: DrainResult = {
      generatedAt: "2026-12-05 12:00:00 UTC",
      host: "2 × test CPU",
      timeScale: 0.03,
      wallSeconds: 400,
      loadAverage: 2,
      accepted: 3600,
      acceptPerSecond: 60,
      acceptP99Ms: 9,
      backlogAtStart: 3600,
      // 3,600 orders in 324 s real is 10,800 study seconds: 180 minutes.
      drainedRealMs: 324_000,
      processingPerSecond: 1 / 3,
      samples: [
        { tMs: 0, waiting: 3600, visible: 3599, paid: 0 },
        { tMs: 324_000, waiting: 0, visible: 0, paid: 3600 },
      ],
    };
    const md = renderDrainReport(result, "d.svg");
    expect(md).toContain("| Time to drain | 180.0 min (backlog ÷ 0.33/s) | 180.0 min, observed to the last order |");
    expect(md).toContain("flash-sale-report.txt:1390");
    expect(md).toContain("![The single-worker drain](d.svg)");
    const svg = renderDrainSvg(result);
    expect(svg.match(/<path /g)?.length).toBe(3);
    expect(svg).toContain("0.03× time");
  });
});

describe("resources per concurrency", () => {
  const level = (concurrency: number, rss: number, inFlight: number, paid: number): ConcurrencyResources => ({
    concurrency,
    accepted: 400,
    idleRssMb: 60,
    rssMedianMb: rss,
    rssMaxMb: rss + 1,
    cpuPercentOfOneCore: 2,
    cpuMsPerOrder: 12,
    paidPerSecond: paid,
    inFlightPeak: inFlight,
    windowSeconds: 30,
    loadAverage: 1,
  });

  it("puts the memory of messages held in numbers from the run", () => {
    const text = summary([
      level(1, 70, 1, 0.33),
      level(5, 71, 5, 1.66),
      level(20, 72, 20, 1.67),
      level(100, 80.5, 100, 1.67),
    ]);
    // (80.5 − 71) MB over 95 more messages: 102.4 KB each.
    expect(text).toContain("moves by +9.5 MB (102.4 KB per message held), on a base of 70.0 MB");
    expect(text).toContain("0.33/s at 1, 1.66/s at 5, 1.67/s at 100");
    expect(text).toContain("flash-sale-report.txt:2271, :2273");
    expect(text).toContain("CPU stays at or under 2.0% of one core (12.0 ms per paid order at 1, 12.0 ms at 100)");
  });

  it("says nothing without the levels it compares", () => {
    expect(summary([level(5, 71, 5, 1.66)])).toBe("");
  });
});
