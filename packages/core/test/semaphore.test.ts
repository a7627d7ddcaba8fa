import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Semaphore } from "../src/semaphore.js";

describe("Semaphore", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("never lets more than `permits` holders in, whatever the demand", async () => {
    const sem = new Semaphore(5);
    let inside = 0;
    let peak = 0;
    const work = Array.from({ length: 40 }, () =>
      sem.use(async () => {
        inside++;
        peak = Math.max(peak, inside);
        await new Promise((r) => setTimeout(r, 3000));
        inside--;
      }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(sem.inUse).toBe(5);
    expect(sem.waiting).toBe(35);
    // 40 jobs × 3 s over 5 permits = 8 rounds = 24 s: the study's 1.67/s.
    await vi.advanceTimersByTimeAsync(23_999);
    expect(sem.inUse).toBe(5);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(work);
    expect(peak).toBe(5);
    expect(sem.inUse).toBe(0);
  });

  it("hands permits over in FIFO order: no waiter is overtaken", async () => {
    const sem = new Semaphore(1);
    const order: number[] = [];
    const jobs = Array.from({ length: 6 }, (_, i) =>
      sem.use(async () => {
        order.push(i);
        await new Promise((r) => setTimeout(r, 100));
      }),
    );
    // A latecomer arriving while all wait still queues behind them.
    await vi.advanceTimersByTimeAsync(50);
    jobs.push(sem.use(async () => void order.push(99)));
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(jobs);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 99]);
  });

  it("removes an aborted waiter without losing a permit", async () => {
    const sem = new Semaphore(1);
    await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal);
    const next = sem.acquire();
    expect(sem.waiting).toBe(2);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    expect(sem.waiting).toBe(1);
    sem.release();
    await next; // the permit went to the next live waiter
    expect(sem.inUse).toBe(1);
    sem.release();
    expect(sem.inUse).toBe(0);
  });

  it("rejects nonsense bounds and unbalanced releases", () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
    expect(() => new Semaphore(2).release()).toThrow(/without a held permit/);
  });
});
