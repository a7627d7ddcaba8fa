import { waitFor } from "@surge/testing";
import { expect, it } from "vitest";
import type { Fleet } from "../src/fleet/types.js";

/**
 * What every Fleet must do, whatever schedules its tasks: report desired /
 * running / pending / concurrency and a task list, accept a new desired count
 * and converge to it, and change per-task concurrency. Each implementation's
 * test file calls this with its own set-up (the local one with real worker
 * processes under a real supervisor).
 */
export function fleetConformance(fleet: () => Fleet, options: { convergeTimeoutMs?: number } = {}) {
  const timeoutMs = options.convergeTimeoutMs ?? 20_000;
  const converged = (f: Fleet, n: number) =>
    waitFor(
      async () => {
        const s = await f.describe();
        return s.desiredCount === n && s.running === n && s.pending === 0 && s.tasks.length === n ? s : undefined;
      },
      { timeoutMs, what: `${n} running task(s)` },
    );

  it("describes itself: counts that add up and a task list", async () => {
    const state = await fleet().describe();
    expect(state).toMatchObject({
      desiredCount: expect.any(Number),
      running: expect.any(Number),
      pending: expect.any(Number),
      stopping: expect.any(Number),
      concurrency: expect.any(Number),
      restarts: expect.any(Number),
    });
    expect(state.tasks.length).toBe(state.running + state.pending + state.stopping);
    for (const task of state.tasks) {
      expect(task).toMatchObject({
        taskId: expect.any(String),
        status: expect.stringMatching(/^(pending|running|stopping)$/),
      });
      expect(Number.isNaN(Date.parse(task.startedAt))).toBe(false);
    }
  });

  it("accepts a desired count at once and converges to it, out and back in", async () => {
    const f = fleet();
    const accepted = await f.setDesiredCount(3);
    expect(accepted.desiredCount).toBe(3);
    const three = await converged(f, 3);
    expect(new Set(three.tasks.map((t) => t.taskId)).size).toBe(3);
    await f.setDesiredCount(1);
    const one = await converged(f, 1);
    // Scale-in stops surplus tasks; it does not replace the one that stays.
    expect(three.tasks.map((t) => t.taskId)).toContain(one.tasks[0]?.taskId);
  });

  it("changes per-task concurrency", async () => {
    const f = fleet();
    const before = await f.describe();
    const next = before.concurrency === 7 ? 8 : 7;
    expect((await f.setConcurrency(next)).concurrency).toBe(next);
    await waitFor(async () => (await f.describe()).concurrency === next, { timeoutMs, what: "new concurrency" });
  });
}
