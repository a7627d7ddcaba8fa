import { describe, expect, it } from "vitest";
import { plannerMinimum, runFlashSale } from "../lib/flash-sale.js";

describe("the capacity planner's minimum for a sale window", () => {
  it("is the tasks that keep up with the arrivals: the study's sale needs ceil(48 ÷ 5/3) = 29", () => {
    expect(plannerMinimum(48, 5, 5, 3000)).toBe(29);
    expect(plannerMinimum(24, 5, 5, 3000)).toBe(15);
    // Concurrency below the slots pays only what it holds; above them it adds nothing.
    expect(plannerMinimum(48, 5, 2, 3000)).toBe(72);
    expect(plannerMinimum(48, 5, 50, 3000)).toBe(29);
    // Float noise never adds a task: 10 orders/s at 5 per second each is exactly 2.
    expect(plannerMinimum(10, 5, 5, 1000)).toBe(2);
  });
});

/**
 * bench/prewarm.ts in seconds: a sale window of 3 tasks booked 8 s ahead of a 3 s burst (200 ms
 * payments), against the stack the benchmark uses. The window's tasks must all be up before the
 * first order, started by the scheduler, and none started while orders arrive.
 */
describe("a pre-warmed flash sale (reduced)", () => {
  it("starts the window's tasks before the burst, none during it, and pays every order once", async () => {
    const r = await runFlashSale({
      rate: 5,
      durationSeconds: 3,
      maxTasks: 5,
      paymentMs: 200,
      slots: 2,
      targetBacklogPerTask: 10,
      scaleOutCooldownSeconds: 5,
      scaleInCooldownSeconds: 60,
      drainTimeoutSeconds: 60,
      prewarm: { leadSeconds: 8, minTasks: 3 },
    });
    expect(r.runningAtBurstStart).toBe(3);
    expect(r.workerStartsBeforeBurst).toBe(2);
    expect(r.workerStartsDuringBurst).toBe(0);
    expect(r.accepted).toBe(15);
    expect(r.acceptMs).toHaveLength(15);
    expect([r.paid, r.paidTwice, r.inProgress]).toEqual([15, 0, 0]);
    const raise = r.activities.find((a) => a.actor === "schedule");
    expect(raise?.cause).toMatch(/holds at least 3 tasks/);
    expect(raise?.t).toBeLessThan(0);
    expect(r.samples.some((s) => s.t < 0)).toBe(true);
  }, 120_000);
});
