/**
 * Figures and wording that an on-call engineer reads at a glance (issue #14, items 3–6, 10, 11):
 * a drain time only when the queue shrinks, one rule for the planner and the Overview, one money
 * precision, one confirmation rule stated once in the docs.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  coldStartNote,
  concurrentNow,
  durationPair,
  lambdaBacklogNote,
  timeTicks,
} from "../src/components/lambda/figures";
import {
  concurrencyProblem,
  controlStatement,
  desiredCountJump,
  desiredCountProblem,
  SCALE_CONFIRM_RULE,
} from "../src/lib/controls";
import { drainEstimate, drainText } from "../src/lib/derive";
import { cheaper, usd } from "../src/lib/format";
import { plan } from "../src/lib/planner";

describe("drain ETA", () => {
  it("says the queue grows, with the net rate, instead of a finite time while arrivals outrun processing", () => {
    // The burst: 231 waiting, 65/s more arriving than paid.
    const e = drainEstimate({ waiting: 231, arrivalPerSecond: 70, processingPerSecond: 5 });
    expect(e).toEqual({ kind: "growing", netPerSecond: 65 });
    expect(drainText(e)).toMatchObject({ value: "growing +65/s", severity: "warning" });
  });

  it("gives a time at the net rate when processing outpaces arrivals", () => {
    const e = drainEstimate({ waiting: 600, arrivalPerSecond: 10, processingPerSecond: 20 });
    expect(e).toEqual({ kind: "draining", seconds: 60, netPerSecond: 10 });
    expect(drainText(e).value).toBe("1 min");
  });

  it("never reads 0 s while orders wait, nor a time when nothing is paid", () => {
    expect(drainText(drainEstimate({ waiting: 231, arrivalPerSecond: 0, processingPerSecond: 0 })).value).toBe("never");
    expect(drainText(drainEstimate({ waiting: 231, arrivalPerSecond: 5, processingPerSecond: 5 })).value).toBe(
      "not shrinking",
    );
    expect(drainText(drainEstimate({ waiting: 0, arrivalPerSecond: 0, processingPerSecond: 0 })).value).toBe("0 s");
    expect(drainText(drainEstimate({ waiting: undefined, arrivalPerSecond: 1, processingPerSecond: 1 })).value).toBe(
      "—",
    );
  });
});

describe("capacity planner drain, from the same rule", () => {
  it("does not say 'drain 0 s' beside 'arrivals outrun the fleet'", () => {
    const r = plan({
      arrivalPerSecond: 48.27,
      slotsPerTask: 5,
      paymentDurationMs: 3000,
      tasks: 1,
      concurrency: 5,
      backlog: 0,
      targetAgeSeconds: 60,
    });
    expect(r.queueGrowthPerSecond).toBeCloseTo(46.6, 1);
    expect(r.drainWhileArriving.kind).toBe("growing");
    expect(r.drainSecondsWhileArriving).toBe(Number.POSITIVE_INFINITY);
    expect(drainText(r.drainWhileArriving).value).toBe("growing +46.6/s");
  });

  it("an idle stack: nothing waits, nothing arrives, the fleet keeps up", () => {
    const r = plan({
      arrivalPerSecond: 0,
      slotsPerTask: 5,
      paymentDurationMs: 3000,
      tasks: 1,
      concurrency: 5,
      backlog: 0,
      targetAgeSeconds: 60,
    });
    expect(r.queueGrowthPerSecond).toBeLessThan(0);
    expect(r.drainWhileArriving.kind).toBe("empty");
  });
});

describe("money", () => {
  it("uses one precision rule: cents from a dollar up, three significant digits below", () => {
    expect(usd(18.333)).toBe("$18.33");
    expect(usd(0.0142)).toBe("$0.0142");
    expect(usd(0.00917)).toBe("$0.00917");
    expect(usd(0.5)).toBe("$0.50");
    expect(usd(-2.5)).toBe("−$2.50");
    expect(usd(0)).toBe("$0");
  });

  it("says which platform is cheaper and by how much, never a negative saving", () => {
    // The row: Lambda at 5.83× Fargate read "Lambda saves -483%".
    expect(cheaper(116.6, 20)).toEqual({ winner: "Fargate", text: "Fargate, $96.60 less" });
    expect(cheaper(18.33, 20.44)).toEqual({ winner: "Lambda", text: "Lambda, $2.11 less" });
    expect(cheaper(0.001, 0.001)).toEqual({ winner: "equal", text: "equal" });
  });
});

describe("fleet controls", () => {
  it("asks for a whole number, naming the value, not only the range", () => {
    expect(desiredCountProblem(2.5, 50)).toBe("2.5 is not a whole number from 0 to 50 (MAX_WORKER_TASKS)");
    expect(desiredCountProblem(51, 50)).toMatch(/whole number from 0 to 50/);
    expect(desiredCountProblem(Number.NaN, 50)).toMatch(/whole number from 0 to 50/);
    expect(desiredCountProblem(4, 50)).toBeUndefined();
    expect(concurrencyProblem(1.5, 100)).toBe("1.5 is not a whole number from 1 to 100");
  });

  it("has one confirmation rule: 1 → 4 is a ×3 jump and asks", () => {
    expect(desiredCountJump(1, 4)).toMatchObject({ big: true, reason: "multiplies the fleet by 4 (1 → 4)." });
    expect(desiredCountJump(1, 2).big).toBe(false);
    expect(desiredCountJump(4, 18).reason).toMatch(/adds 14 tasks at once/);
    expect(desiredCountJump(3, 0).big).toBe(true);
    expect(desiredCountJump(10, 12).big).toBe(false);
  });

  it("states the rule once, in docs/console.md, in the words the form shows", () => {
    const doc = readFileSync(resolve(import.meta.dirname, "../../docs/console.md"), "utf8");
    expect(doc).toContain(SCALE_CONFIRM_RULE);
  });

  it("says who controls the count, including a saved policy that overrides WORKER_TASKS", () => {
    const policy = { enabled: true, minTasks: 1, maxTasks: 10, targetBacklogPerTask: 50 };
    expect(controlStatement({ ...policy, controlledBy: "autoscaler" }, 2)).toMatch(
      /^The autoscaler sets the desired count \(2 now\).*kept across restarts.*WORKER_TASKS/,
    );
    expect(
      controlStatement(
        { ...policy, controlledBy: "operator", suspended: { by: "ops", reason: "scaled by hand to 4" } },
        4,
      ),
    ).toMatch(/^An operator sets the desired count \(4\): ops suspended the autoscaler/);
    expect(controlStatement({ ...policy, enabled: false, controlledBy: "operator" }, 4)).toMatch(
      /dynamic scaling is off/,
    );
  });
});

describe("Lambda page figures", () => {
  it("shows unknown init and duration as — with no cold start or invocation, not 0 ms", () => {
    expect(durationPair({ count: 0, p50: 0, p99: 0 })).toEqual({ p50: "—", p99: "—" });
    expect(durationPair({ count: 3, p50: 412.5, p99: 980 })).toEqual({ p50: "413 ms", p99: "980 ms" });
  });

  it("words the cold-start histogram from the same counts as the tile", () => {
    expect(coldStartNote({ coldStarts: 0, recentCold: 0, recentShown: 0 })).toBe("No cold starts in the last hour.");
    // The issue: a tile counting 10 cold starts beside "No cold starts among the recent REPORT lines".
    expect(coldStartNote({ coldStarts: 10, recentCold: 0, recentShown: 200 })).toBe(
      "10 cold starts in the last hour, none among the 200 newest REPORT lines: the histogram has nothing to draw; the Init tile covers all 10.",
    );
    expect(coldStartNote({ coldStarts: 10, recentCold: 4, recentShown: 200 })).toBe(
      "4 of the last hour's 10 cold starts are among the 200 newest REPORT lines drawn here.",
    );
  });

  it("counts no concurrency before any invocation; starting environments are not busy ones", () => {
    expect(
      concurrentNow({ concurrentExecutions: 0, invocations: 0, environments: { idle: 0, busy: 2, starting: 2 } }),
    ).toEqual({
      value: "0",
      hint: "no invocation yet · 2 environments starting",
    });
    expect(
      concurrentNow({ concurrentExecutions: 3, invocations: 9, environments: { idle: 1, busy: 3, starting: 1 } }),
    ).toEqual({
      value: "3",
      hint: "2 invoking, 1 starting, 1 idle",
    });
  });

  it("says the backlog waiting for Lambda, and that throttled events are retried, not lost", () => {
    expect(lambdaBacklogNote({ throttles: 3694, errors: 0, dead: 0 })).toBe(
      "3,694 throttled events were retried (async invocation): none lost — no order routed to Lambda is dead.",
    );
    expect(lambdaBacklogNote({ throttles: 5, errors: 2, dead: 2 })).toBe(
      "5 throttled events were retried (async invocation); 2 orders routed to Lambda are dead: see Queue & DLQ.",
    );
    expect(lambdaBacklogNote({ throttles: 0, errors: 0, dead: 0 })).toBe("No throttles, no dead orders.");
  });

  it("puts a time axis under the cold/warm bins", () => {
    const start = Date.UTC(2026, 0, 1, 12, 0, 0);
    const ticks = timeTicks(
      Array.from({ length: 60 }, (_, i) => start + i * 60_000),
      6,
    );
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(ticks.length).toBeLessThanOrEqual(7);
    expect(ticks[0]?.fraction).toBe(0);
    for (const t of ticks) expect(t.label).toMatch(/^\d\d:\d\d$/);
  });
});
