import { describe, expect, it } from "vitest";
import {
  billedGbSeconds,
  breakEvenOrders,
  compareCosts,
  fargateCostFromSchedule,
  fargateCostFromTaskSeconds,
  fargateMonthlyCost,
  fargateTaskHourUsd,
  freeTierOrders,
  lambdaCost,
  lambdaMonthlyCost,
  ordersForLambdaBudget,
  PROVISIONED_CONCURRENCY_PRICING,
  provisionedConcurrencyCost,
  roundUsd,
  STUDY_PRICING,
  taskSecondsFromChanges,
} from "../src/cost.js";

const cents = (usd: number) => roundUsd(usd, 2);
const lambdaUsd = (ordersPerMonth: number, extra: { freeTier?: boolean } = {}) =>
  lambdaMonthlyCost({ ordersPerMonth, paymentDurationMs: 3000, memoryMb: 512, ...extra });

// Every figure below is quoted from the study (seed/flash-sale-report.txt, Part III and
// "COST REALITY CHECK"), with its prices: $0.20 per 1M requests, $0.0000166667 per GB-s,
// 1M requests + 400,000 GB-s free; Fargate $0.04656 per vCPU-hour, $0.00511 per GB-hour.
describe("cost model: the study's Lambda figures, to the cent", () => {
  it("prices the worked examples: 10k and 100k free, 267k one cent, 1M $18.33", () => {
    expect(cents(lambdaUsd(1_000).totalUsd)).toBe(0);
    expect(cents(lambdaUsd(10_000).totalUsd)).toBe(0);
    expect(lambdaUsd(10_000).gbSeconds).toBe(15_000);
    expect(cents(lambdaUsd(100_000).totalUsd)).toBe(0);
    expect(lambdaUsd(100_000).gbSeconds).toBe(150_000);

    // "Over by: 500 GB-seconds. Cost: 500 × $0.0000166667 = $0.0083 ≈ 1 cent"
    const at267k = lambdaUsd(267_000);
    expect(at267k.billableGbSeconds).toBe(500);
    expect(roundUsd(at267k.computeUsd, 4)).toBe(0.0083);
    expect(cents(at267k.totalUsd)).toBe(0.01);

    // "Paid: 1,100,000 × $0.0000166667 = $18.33"; requests all inside the free million.
    const at1M = lambdaUsd(1_000_000);
    expect(at1M.gbSeconds).toBe(1_500_000);
    expect(at1M.billableGbSeconds).toBe(1_100_000);
    expect(at1M.requestsUsd).toBe(0);
    expect(cents(at1M.totalUsd)).toBe(18.33);
  });

  it("finds the free tier's limit: 400,000 GB-s ÷ 1.5 GB-s per order = 266,667 orders", () => {
    expect(Math.round(freeTierOrders({ paymentDurationMs: 3000, memoryMb: 512 }))).toBe(266_667);
    // The requests side (1M) is not the binding one at 3 s; at 100 ms it is.
    expect(freeTierOrders({ paymentDurationMs: 100, memoryMb: 512 })).toBe(1_000_000);
  });

  it("reproduces the no-free-tier comparison: $0.000025 per order, $0.03 / $2.50 / $25 / $250, break-even 6M vs $150", () => {
    const perOrder = lambdaCost({ invocations: 1, billedDurationMs: 3000, memoryMb: 512, freeTier: false });
    expect(roundUsd(perOrder.computeUsd, 6)).toBe(0.000025);
    // That table prices duration only (its per-order figure has no request charge).
    expect(cents(lambdaUsd(1_000, { freeTier: false }).computeUsd)).toBe(0.03);
    expect(cents(lambdaUsd(100_000, { freeTier: false }).computeUsd)).toBe(2.5);
    expect(cents(lambdaUsd(1_000_000, { freeTier: false }).computeUsd)).toBe(25);
    expect(cents(lambdaUsd(10_000_000, { freeTier: false }).computeUsd)).toBe(250);
    // "Break-even point: ~6,000,000 orders/month" against ECS at $150/month.
    // (The study divides by its rounded $0.000025; the unrounded price gives 12 orders fewer.)
    expect(Math.round(150 / roundUsd(perOrder.computeUsd, 6))).toBe(6_000_000);
  });

  it("solves 'when does Lambda = ECS $20/month?' at ~1.07 million orders", () => {
    // The study: ($20 / $0.0000166667 + 400,000 GB-s) / 1.5 = 1,066,667 orders, ignoring
    // the $0.20 per million requests past the first million; with them it is 531 orders fewer.
    const orders = ordersForLambdaBudget(20, { paymentDurationMs: 3000, memoryMb: 512 });
    expect(roundUsd(orders / 1e6, 2)).toBe(1.07);
    expect(Math.round(orders)).toBe(1_066_136);
    expect(cents(lambdaUsd(Math.round(orders)).totalUsd)).toBe(20);
  });

  it("prices the study's own 10-order test from its REPORT lines: 15.17 GB-s, free", () => {
    const billed = [3064, 3065, 3063, 3069, 3062, 3004, 3002, 3004, 3004, 3004];
    const gbSeconds = billedGbSeconds(billed.map((billedDurationMs) => ({ billedDurationMs, memorySizeMb: 512 })));
    expect(roundUsd(gbSeconds, 2)).toBe(15.17);
    expect(lambdaCost({ invocations: 10, gbSeconds }).totalUsd).toBe(0);
    expect(roundUsd(lambdaCost({ invocations: 10, gbSeconds, freeTier: false }).totalUsd, 6)).toBe(0.000255);
  });
});

describe("cost model: the study's Fargate figures, to the cent", () => {
  it("prices one 0.25 vCPU / 0.5 GB task: $0.01164 + $0.00256 = $0.0142 per hour", () => {
    const hour = fargateTaskHourUsd();
    expect(roundUsd(hour.vcpuUsd, 5)).toBe(0.01164);
    expect(roundUsd(hour.memoryUsd, 5)).toBe(0.00256);
    expect(roundUsd(hour.totalUsd, 4)).toBe(0.0142);
    // "Two Tasks: 2 × $0.0142 = $0.0284/hour; Daily: $0.68/day"
    expect(roundUsd(2 * hour.totalUsd, 4)).toBe(0.0284);
    expect(cents(fargateCostFromSchedule([{ tasks: 2, hours: 24 }]).totalUsd)).toBe(0.68);
  });

  it("prices the auto-scaled month (2 tasks for 20 days, 25 for 10): $98.80", () => {
    const month = fargateCostFromSchedule([
      { tasks: 2, hours: 20 * 24 },
      { tasks: 25, hours: 10 * 24 },
    ]);
    expect(cents(month.totalUsd)).toBe(98.8);
    expect(month.taskHours).toBe(2 * 480 + 25 * 240);
    expect(cents(month.vcpuUsd + month.memoryUsd)).toBe(98.8);
  });
});

// Figures the study states that its own prices do not give. The model keeps the
// arithmetic and these tests pin both numbers, so nobody "fixes" the model to match.
describe("cost model: where the study's arithmetic slips", () => {
  it("volume table rows past 1M (and 500k) do not follow from its prices", () => {
    const rows: Array<[orders: number, stated: number, computed: number]> = [
      [500_000, 8.33, 5.83], // 350,000 billable GB-s × $0.0000166667
      [2_000_000, 56.67, 43.53], // 2.6M GB-s = $43.33, plus 1M billable requests = $0.20
      [5_000_000, 153.33, 119.13],
      [10_000_000, 323.33, 245.13],
    ];
    for (const [orders, stated, computed] of rows) {
      const usd = cents(lambdaUsd(orders).totalUsd);
      expect(usd, `${orders} orders`).toBe(computed);
      expect(usd).not.toBe(stated);
    }
  });

  it("rounds the daily fleet cost before multiplying: $20.40, $13.60, $85.20 are $20.44, $13.63, $85.17", () => {
    expect(cents(fargateCostFromSchedule([{ tasks: 2, hours: 720 }]).totalUsd)).toBe(20.44);
    expect(cents(fargateCostFromSchedule([{ tasks: 2, hours: 480 }]).totalUsd)).toBe(13.63);
    expect(cents(fargateCostFromSchedule([{ tasks: 25, hours: 240 }]).totalUsd)).toBe(85.17);
  });

  it("prices a 60 ms cold start at $0.0000005, not $0.0000001 (so 1M cold starts cost $0.50, not $0.10)", () => {
    const cold = lambdaCost({ invocations: 0, billedDurationMs: 60, memoryMb: 512, freeTier: false });
    const oneColdStart = lambdaCost({ invocations: 1, billedDurationMs: 60, memoryMb: 512, freeTier: false });
    expect(cold.totalUsd).toBe(0);
    expect(roundUsd(oneColdStart.computeUsd, 7)).toBe(0.0000005);
    expect(cents(oneColdStart.computeUsd * 1_000_000)).toBe(0.5);
  });
});

describe("compareCosts", () => {
  it("answers both bills, the cheaper one, the free tier and the break-even volume", () => {
    const c = compareCosts({ ordersPerMonth: 1_000_000 });
    expect(cents(c.lambda.totalUsd)).toBe(18.33);
    // The study's minimum fleet: 2 tasks all month (720 h) = $20.44.
    expect(cents(c.fargate.totalUsd)).toBe(20.44);
    expect(c.cheaper).toBe("lambda");
    expect(Math.round(c.freeTierOrders)).toBe(266_667);
    const breakEven = c.breakEvenOrders ?? Number.NaN;
    expect(Math.round(breakEven)).toBe(1_083_628);
    expect(cents(lambdaUsd(breakEven).totalUsd)).toBe(cents(c.fargate.totalUsd));
    expect(compareCosts({ ordersPerMonth: 2_000_000 }).cheaper).toBe("fargate");
  });

  it("scales the fleet past its minimum only for the work there is", () => {
    // 2 tasks × 5 slots ÷ 3 s = 3.33 orders/s = 8.64M orders in 720 h; 17.28M needs 4 tasks' worth.
    const base = fargateMonthlyCost({ ordersPerMonth: 8_640_000 });
    expect(base.baselineCapacityOrders).toBe(8_640_000);
    expect(base.taskHours).toBe(1440);
    const doubled = fargateMonthlyCost({ ordersPerMonth: 17_280_000 });
    expect(doubled.taskHours).toBeCloseTo(2880, 6);
    const halfUtilized = fargateMonthlyCost({ ordersPerMonth: 17_280_000, targetUtilization: 0.5 });
    expect(halfUtilized.taskHours).toBeCloseTo(5760, 6);
  });

  it("moves the answer with the inputs: more memory or longer payments make Lambda dearer", () => {
    const at1G = compareCosts({ ordersPerMonth: 1_000_000, memoryMb: 1024 });
    expect(cents(at1G.lambda.totalUsd)).toBe(cents((3_000_000 - 400_000) * STUDY_PRICING.lambda.gbSecondUsd));
    expect(Math.round(at1G.freeTierOrders)).toBe(133_333);
    const slow = compareCosts({ ordersPerMonth: 100_000, paymentDurationMs: 10_000 });
    expect(slow.lambda.gbSeconds).toBe(500_000);
    expect(breakEvenOrders({ paymentDurationMs: 10_000 })).toBeLessThan(breakEvenOrders({}) ?? 0);
  });

  it("says when Lambda stays cheaper at any volume", () => {
    // A fleet that costs more per order than Lambda (1 slot per task, huge tasks) never wins.
    expect(breakEvenOrders({ slotsPerTask: 1, taskSize: { vcpu: 4, memoryGb: 30 } })).toBeNull();
  });

  it("rejects impossible inputs, naming the field", () => {
    expect(() => compareCosts({ ordersPerMonth: -1 })).toThrow(/ordersPerMonth/);
    expect(() => compareCosts({ ordersPerMonth: 1, memoryMb: 64 })).toThrow(/memoryMb/);
    expect(() => compareCosts({ ordersPerMonth: 1, targetUtilization: 0 })).toThrow(/targetUtilization/);
    expect(() => compareCosts({ ordersPerMonth: 1, slotsPerTask: 0 })).toThrow(/slotsPerTask/);
  });
});

describe("observed fleets", () => {
  it("integrates tasks over time from scaling changes, clipped to the window", () => {
    const t0 = 1_000_000;
    const changes = [
      { atMs: t0 - 60_000, tasks: 2 }, // before the window: sets the starting count
      { atMs: t0 + 10_000, tasks: 6 },
      { atMs: t0 + 40_000, tasks: 3 },
      { atMs: t0 + 120_000, tasks: 9 }, // after the window: ignored
    ];
    const seconds = taskSecondsFromChanges(changes, { fromMs: t0, toMs: t0 + 60_000 }, 1);
    expect(seconds).toBe(2 * 10 + 6 * 30 + 3 * 20);
    expect(taskSecondsFromChanges([], { fromMs: t0, toMs: t0 + 5_000 }, 4)).toBe(20);
    expect(taskSecondsFromChanges(changes, { fromMs: t0, toMs: t0 }, 1)).toBe(0);
  });

  it("prices task-seconds per second of Fargate time", () => {
    // 25 tasks for one hour = the study's "$0.40 per hour" fleet at its own per-task price of $0.0142 … $0.35.
    const hour = fargateCostFromTaskSeconds(25 * 3600);
    expect(cents(hour.totalUsd)).toBe(0.35);
    expect(fargateCostFromTaskSeconds(90).taskHours).toBe(0.025);
  });
});

describe("roundUsd", () => {
  it("rounds half-up on the printed digits", () => {
    expect(roundUsd(0.025, 2)).toBe(0.03);
    expect(roundUsd(0.002555, 5)).toBe(0.00256);
    expect(roundUsd(1.005, 2)).toBe(1.01);
    expect(roundUsd(-1.005, 2)).toBe(-1.01);
    expect(roundUsd(18.333370000000002, 2)).toBe(18.33);
    expect(roundUsd(5.00001e-7, 7)).toBe(5e-7);
  });
});

describe("cost model: provisioned concurrency", () => {
  // The study's sale on Lambda: 48 orders/s for 60 s = 2,880 orders of 3 s at 512 MB, with 10
  // environments provisioned for a one-hour window.
  const sale = {
    provisionedConcurrency: 10,
    memoryMb: 512,
    seconds: 3600,
    invocations: 2880,
    billedDurationMs: 3000,
  };

  it("charges the configured GB-seconds whether used or not, and a lower duration price on them", () => {
    const c = provisionedConcurrencyCost(sale);
    // 10 × 0.5 GB × 3600 s = 18,000 GB-s × $0.0000041667 = $0.075.
    expect(c.provisionedGbSeconds).toBe(18_000);
    expect(roundUsd(c.provisionedUsd, 6)).toBe(0.075001);
    // 2,880 × 3 s × 0.5 GB = 4,320 GB-s × $0.0000097222 = $0.042.
    expect(c.durationGbSeconds).toBe(4320);
    expect(roundUsd(c.durationUsd, 6)).toBe(0.042);
    expect(roundUsd(c.requestsUsd, 6)).toBe(0.000576);
    expect(c.spillover.totalUsd).toBe(0);
    expect(roundUsd(c.totalUsd, 4)).toBe(0.1176);
    // Idle, it still costs the configured concurrency.
    expect(provisionedConcurrencyCost({ ...sale, invocations: 0 }).totalUsd).toBe(c.provisionedUsd);
  });

  it("prices spillover beyond the provisioned environments on demand, init included, without a free tier", () => {
    const c = provisionedConcurrencyCost({
      ...sale,
      invocations: 2000,
      spilloverInvocations: 880,
      spilloverBilledDurationMs: 3062,
    });
    // 880 × 3.062 s × 0.5 GB = 1,347.28 GB-s at $0.0000166667, plus 880 requests.
    expect(c.spillover.gbSeconds).toBeCloseTo(1347.28, 6);
    expect(roundUsd(c.spillover.computeUsd, 6)).toBe(0.022455);
    expect(roundUsd(c.spillover.requestsUsd, 6)).toBe(0.000176);
    expect(c.totalUsd).toBeCloseTo(c.provisionedUsd + c.durationUsd + c.requestsUsd + c.spillover.totalUsd, 12);
  });

  it("costs less per busy GB-second than on demand, and refuses a negative input naming it", () => {
    expect(
      PROVISIONED_CONCURRENCY_PRICING.provisionedGbSecondUsd + PROVISIONED_CONCURRENCY_PRICING.durationGbSecondUsd,
    ).toBeLessThan(STUDY_PRICING.lambda.gbSecondUsd);
    expect(() => provisionedConcurrencyCost({ ...sale, seconds: -1 })).toThrow(/seconds must be a number ≥ 0, got -1/);
  });
});
