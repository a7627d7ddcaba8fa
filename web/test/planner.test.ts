import { describe, expect, it } from "vitest";
import { lesson, type PlannerInput, plan } from "../src/lib/planner";

const study: PlannerInput = {
  arrivalPerSecond: 48.27,
  slotsPerTask: 5,
  paymentDurationMs: 3000,
  tasks: 1,
  concurrency: 5,
  backlog: 2884,
  targetAgeSeconds: 60,
};

describe("capacity planner", () => {
  it("reproduces the study: one task pays 5 ÷ 3 s, the flash sale grows the queue by ~46.6/s", () => {
    const r = plan(study);
    expect(r.perTaskPerSecond).toBeCloseTo(5 / 3, 6);
    expect(r.processingPerSecond).toBeCloseTo(1.667, 3);
    expect(r.queueGrowthPerSecond).toBeCloseTo(46.6, 1);
    expect(r.drainSecondsWhileArriving).toBe(Number.POSITIVE_INFINITY);
    // 2,884 orders at 1.67/s once the sale ends: the study's "~29 minutes".
    expect(r.drainSecondsAfterArrivalsStop / 60).toBeCloseTo(28.8, 1);
  });

  it("needs 36 tasks for 60 orders/s, as the study computed", () => {
    expect(plan({ ...study, arrivalPerSecond: 60, backlog: 0 }).tasksToKeepUp).toBe(36);
  });

  it("gives no throughput for concurrency above the slots, only more in flight", () => {
    const at5 = plan(study);
    const at50 = plan({ ...study, concurrency: 50 });
    expect(at50.processingPerSecond).toBe(at5.processingPerSecond);
    expect(at50.waitingForSlotPerTask).toBe(45);
    expect(at50.inFlightAtFullLoad).toBe(50);
    const line = lesson({ ...study, concurrency: 50 })[0];
    expect(line).toMatch(/more in flight, not more throughput/);
  });

  it("loses throughput with concurrency below the slots", () => {
    expect(plan({ ...study, concurrency: 2 }).perTaskPerSecond).toBeCloseTo(2 / 3, 6);
  });

  it("sizes the fleet to serve the current oldest order within the target age", () => {
    // 2,884 waiting, served within 60 s: 48.07/s needed, above the 48.27/s arrivals? no: max(48.27, 48.07) → 29 tasks.
    const r = plan(study);
    expect(r.tasksForTargetAge).toBe(Math.ceil(48.27 / (5 / 3)));
    const slow = plan({ ...study, backlog: 30_000 });
    expect(slow.tasksForTargetAge).toBe(Math.ceil(30_000 / 60 / (5 / 3)));
    expect(slow.targetBacklogPerTask).toBeCloseTo(100, 6);
  });

  it("drains while arrivals continue when the fleet outpaces them", () => {
    const r = plan({ ...study, tasks: 40 });
    expect(r.queueGrowthPerSecond).toBeLessThan(0);
    expect(r.drainSecondsWhileArriving).toBeCloseTo(2884 / (40 * (5 / 3) - 48.27), 6);
  });
});
