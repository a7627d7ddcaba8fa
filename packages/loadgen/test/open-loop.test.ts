import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  BURST_PRESETS,
  Burst,
  type BurstSpec,
  HttpOrderTarget,
  parseBurstSpec,
  presetBody,
  type QueueSample,
  RateSchedule,
  STUDY_USERS,
} from "../src/index.js";
import { FakeTarget, ManualClock, rateSpec as rate, seededRandom, usersSpec as users } from "./fakes.js";

function setup(spec: BurstSpec, latencyMs?: (i: number) => number, status?: (i: number) => number, seed = 7) {
  const clock = new ManualClock();
  const target = new FakeTarget(clock, latencyMs, status);
  const burst = new Burst({ spec, target, targetUrl: "http://127.0.0.1:1", clock, random: seededRandom(seed) });
  return { clock, target, burst };
}

describe("latency from the scheduled arrival (coordinated omission)", () => {
  it("a stalled sender's lag counts in latency, not in service time", async () => {
    // 100 orders/s, every answer in 2 ms; at 2 s the event loop stalls for 500 ms.
    const { clock, target, burst } = setup(rate({ ratePerSecond: 100, durationSeconds: 5 }), () => 2);
    const done = burst.start();
    await clock.advance(2000);
    await clock.stall(500);
    await clock.advance(2500);
    const stats = await done;
    // The 50 arrivals due in (2000, 2500] ms were all sent at the stall's end, none was lost.
    expect(target.calls.filter((c) => c.at === 2500)).toHaveLength(50);
    expect(stats.sent).toBe(500);
    // Only the request in flight when the loop stalled had its answer read late.
    expect(stats.serviceTimeMs.max).toBe(500);
    expect(stats.serviceTimeMs.p99).toBeCloseTo(2, 2);
    expect(stats.scheduleLagMs.max).toBeCloseTo(490, 0); // the arrival due at 2010 ms, sent at 2500
    expect(stats.latencyMs.max).toBeCloseTo(500, 0); // the one in flight, answered late
    // 51 of 500 answers waited 12..500 ms: the p99 sits in the stall, the median does not.
    expect(stats.latencyMs.p99).toBeGreaterThan(400);
    expect(stats.latencyMs.p50).toBeCloseTo(2, 2);
  });

  it("a users burst reports corrected percentiles beside the raw ones", async () => {
    // One user, 200 ms think, answers in 10 ms except the 10th, which takes 3 s.
    const { clock, burst } = setup(
      users({ users: 1, spawnRate: 1, waitMinMs: 200, waitMaxMs: 200, durationSeconds: 30 }),
      (i) => (i === 9 ? 3000 : 10),
    );
    const done = burst.start();
    await clock.advance(30_000);
    const stats = await done;
    // About 110 answers; the stall is one of them, so the raw p99 barely sees it…
    expect(stats.latencyMs.max).toBe(3000);
    expect(stats.latencyMs.p95).toBeCloseTo(10, 1);
    // …but the user meant to order every 210 ms: the ~13 orders it could not send waited too.
    const c = stats.correctedLatencyMs;
    expect(c?.max).toBe(3000);
    expect((c?.p95 ?? 0) > 1000).toBe(true);
    expect(stats.serviceTimeMs.max).toBe(3000);
  });
});

describe("a real loopback server that stalls", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it("a 500 ms pause shows in the p99 from the schedule and not in service time", async () => {
    // The server shares this process's event loop, like the API and its own bursts: the 50th order
    // blocks it for 500 ms, so the burst cannot send on time either (the coordinated omission case).
    // 40 orders/s keeps the catch-up after the pause to 20 requests, 5% of the 400.
    let seen = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (++seen === 100) {
          const until = performance.now() + 500;
          while (performance.now() < until) {
            // a synchronous stall: GC, a blocking call, a CPU-bound handler
          }
        }
        res.writeHead(202, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const burst = new Burst({
      spec: rate({ ratePerSecond: 40, durationSeconds: 10 }),
      target: new HttpOrderTarget(url),
      targetUrl: url,
    });
    const stats = await burst.start();
    expect(seen).toBeGreaterThan(390);
    expect(stats.failures).toBe(0);
    // 20 arrivals were due during the pause: 5% of the answers waited up to 500 ms from their schedule.
    expect(stats.scheduleLagMs.max).toBeGreaterThan(400);
    expect(stats.latencyMs.p99).toBeGreaterThan(400);
    // Sent once the loop ran again, they were answered as fast as ever: only the one or two
    // requests caught mid-stall took long, under 1% of them.
    expect(stats.serviceTimeMs.max).toBeGreaterThan(400);
    expect(stats.serviceTimeMs.p99).toBeLessThan(250);
  }, 30_000);
});

describe("arrival processes", () => {
  it("Poisson arrivals: exponential gaps, mean 1/rate and coefficient of variation 1", async () => {
    const { clock, target, burst } = setup(
      rate({ ratePerSecond: 50, durationSeconds: 120, arrival: "poisson" }),
      () => 1,
    );
    const done = burst.start();
    await clock.advance(120_000);
    await done;
    const gaps = target.calls.slice(1).map((c, i) => c.at - (target.calls[i]?.at ?? 0));
    expect(gaps.length).toBeGreaterThan(5500);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (gaps.length - 1));
    expect(mean).toBeGreaterThan(19.4);
    expect(mean).toBeLessThan(20.6);
    expect(sd / mean).toBeGreaterThan(0.95);
    expect(sd / mean).toBeLessThan(1.05);
    // Memoryless: about e⁻¹ of the gaps are longer than the mean.
    const longer = gaps.filter((g) => g > 20).length / gaps.length;
    expect(longer).toBeGreaterThan(0.34);
    expect(longer).toBeLessThan(0.4);
  });

  it("constant arrivals are evenly spaced (coefficient of variation 0)", async () => {
    const { clock, target, burst } = setup(
      rate({ ratePerSecond: 50, durationSeconds: 4, arrival: "constant" }),
      () => 1,
    );
    const done = burst.start();
    await clock.advance(4000);
    await done;
    const gaps = target.calls.slice(1).map((c, i) => c.at - (target.calls[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeCloseTo(20, 6);
  });

  it("the same seed gives the same Poisson arrivals", async () => {
    const times = async (seed: number) => {
      const { clock, target, burst } = setup(
        rate({ ratePerSecond: 20, durationSeconds: 5, arrival: "poisson" }),
        () => 1,
        undefined,
        seed,
      );
      const done = burst.start();
      await clock.advance(5000);
      await done;
      return target.calls.map((c) => c.at);
    };
    expect(await times(3)).toEqual(await times(3));
    expect(await times(3)).not.toEqual(await times(4));
  });
});

describe("stages (manual clock)", () => {
  it("a linear ramp then a step, second by second", async () => {
    // 0 → 100/s over 10 s (Λ(t) = 5t²: 5·(2i+1) arrivals in second i), then a jump to 200/s for 5 s.
    const spec = parseBurstSpec({
      mode: "async",
      ratePerSecond: 0,
      stages: [
        { durationSeconds: 10, ratePerSecond: 100 },
        { durationSeconds: 0, ratePerSecond: 200 },
        { durationSeconds: 5, ratePerSecond: 200 },
      ],
    });
    expect(spec.durationSeconds).toBe(15);
    const { clock, target, burst } = setup(spec, () => 1);
    const done = burst.start();
    await clock.advance(15_000);
    const stats = await done;
    const sent = stats.timeline.map((p) => p.sent);
    expect(sent).toHaveLength(15);
    for (let i = 0; i < 10; i++) expect(Math.abs((sent[i] ?? 0) - 5 * (2 * i + 1))).toBeLessThanOrEqual(1);
    expect(sent.slice(10)).toEqual([200, 200, 200, 200, 200]);
    expect(target.calls).toHaveLength(500 - 1 + 1000); // Λ(10 s) = 500, less the one at t = 0 a rate of 0 never sends
    expect(stats.timeline[4]?.targetRatePerSecond).toBeCloseTo(50, 6);
    expect(stats.timeline[12]?.targetRatePerSecond).toBe(200);
    expect(stats.ratePerSecond).toBe(200);
  });

  it("a live rate change leaves the stages and holds the new rate to the end", async () => {
    const spec = parseBurstSpec({
      mode: "async",
      ratePerSecond: 10,
      stages: [{ durationSeconds: 10, ratePerSecond: 110 }],
    });
    const { clock, target, burst } = setup(spec, () => 1);
    const done = burst.start();
    await clock.advance(5000);
    const change = burst.change({ ratePerSecond: 20 }, "carol");
    expect(change.before.ratePerSecond).toBeCloseTo(60, 6);
    await clock.advance(5000);
    const stats = await done;
    expect(target.calls.filter((c) => c.at >= 5000)).toHaveLength(100);
    expect(stats.timeline.slice(6).every((p) => p.sent === 20)).toBe(true);
  });

  it("the schedule's inverse lands every arrival on its expected count", () => {
    const s = RateSchedule.fromStages(50, [
      { durationSeconds: 2, ratePerSecond: 150 },
      { durationSeconds: 3, ratePerSecond: 10 },
    ]);
    for (const t of [0, 500, 1999, 2000, 3500, 4999]) expect(s.timeOfUnits(s.unitsAt(t))).toBeCloseTo(t, 6);
    expect(s.unitsAt(2000)).toBeCloseTo(200, 9); // mean 100/s for 2 s
    expect(s.timeOfUnits(10_000)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("presets", () => {
  it.each(BURST_PRESETS)("%s is a valid burst within the bounds", (preset) => {
    const spec = parseBurstSpec(presetBody(preset, { mode: "sync", peakRatePerSecond: 100, durationSeconds: 60 }));
    expect(spec.durationSeconds).toBeCloseTo(60, 6);
  });

  it("the study preset is the study's flash-sale test", () => {
    expect(
      parseBurstSpec(presetBody("study", { mode: "sync", peakRatePerSecond: 1, durationSeconds: 60 })),
    ).toMatchObject({ model: "users", users: 20, spawnRate: 10, waitMinMs: 100, waitMaxMs: 500 });
    expect(STUDY_USERS.users).toBe(20);
  });
});

/** A queue that fills while the load runs and drains at `drainPerSecond` after it. */
class FakeQueue {
  waiting = 0;
  oldestAgeSeconds = 0;
  samples = 0;
  async sample(): Promise<QueueSample> {
    this.samples++;
    return { waiting: this.waiting, oldestAgeSeconds: this.oldestAgeSeconds };
  }
}

describe("SLO gates", () => {
  it("decide p99 and failure ratio once the burst finished", async () => {
    const clock = new ManualClock();
    const target = new FakeTarget(
      clock,
      (i) => (i % 50 === 0 ? 300 : 5),
      (i) => (i % 20 === 0 ? 503 : 202),
    );
    const burst = new Burst({
      spec: rate({
        ratePerSecond: 100,
        durationSeconds: 5,
        thresholds: [
          { metric: "p99Ms", max: 250 },
          { metric: "failureRatio", max: 0.1 },
        ],
      }),
      target,
      targetUrl: "http://127.0.0.1:1",
      clock,
    });
    const done = burst.start();
    await clock.advance(2000);
    expect(burst.stats().thresholds).toBeUndefined(); // not before it finished
    await clock.advance(3000);
    const stats = await done;
    expect(stats.thresholds).toEqual([
      { metric: "p99Ms", max: 250, value: 300, pass: false },
      { metric: "failureRatio", max: 0.1, value: expect.closeTo(0.05, 2), pass: true },
    ]);
  });

  it("watch the queue drain after the load, and time it", async () => {
    const clock = new ManualClock();
    const queue = new FakeQueue();
    const burst = new Burst({
      spec: rate({
        ratePerSecond: 10,
        durationSeconds: 3,
        thresholds: [
          { metric: "oldestAgeSeconds", max: 5 },
          { metric: "drainSeconds", max: 10 },
        ],
      }),
      target: new FakeTarget(clock, () => 1),
      targetUrl: "http://127.0.0.1:1",
      clock,
      queue,
    });
    const done = burst.start();
    queue.waiting = 30;
    queue.oldestAgeSeconds = 2.5;
    await clock.advance(3000);
    expect(burst.status).toBe("completed");
    expect(burst.settled).toBe(false);
    expect(burst.stats().queue).toMatchObject({ draining: true, waiting: 30 });
    queue.oldestAgeSeconds = 4;
    await clock.advance(4000);
    queue.waiting = 0;
    queue.oldestAgeSeconds = 0;
    await clock.advance(1000);
    const stats = await done;
    expect(burst.settled).toBe(true);
    expect(stats.queue).toMatchObject({ draining: false, drained: true, drainSeconds: 5, peakOldestAgeSeconds: 4 });
    expect(stats.thresholds).toEqual([
      { metric: "oldestAgeSeconds", max: 5, value: 4, pass: true },
      { metric: "drainSeconds", max: 10, value: 5, pass: true },
    ]);
  });

  it("a queue that does not drain fails its gate once the bound is passed, without waiting longer", async () => {
    const clock = new ManualClock();
    const queue = new FakeQueue();
    queue.waiting = 5;
    const burst = new Burst({
      spec: rate({ ratePerSecond: 10, durationSeconds: 1, thresholds: [{ metric: "drainSeconds", max: 3 }] }),
      target: new FakeTarget(clock, () => 1),
      targetUrl: "http://127.0.0.1:1",
      clock,
      queue,
    });
    const done = burst.start();
    await clock.advance(6000);
    const stats = await done;
    expect(stats.thresholds).toEqual([{ metric: "drainSeconds", max: 3, value: 4, pass: false }]);
    expect(stats.queue?.drained).toBe(false);
  });

  it("queue gates need a queue to watch", () => {
    const clock = new ManualClock();
    expect(
      () =>
        new Burst({
          spec: rate({ thresholds: [{ metric: "drainSeconds", max: 3 }] }),
          target: new FakeTarget(clock),
          targetUrl: "http://127.0.0.1:1",
          clock,
        }),
    ).toThrow(/drainSeconds need the order queue/);
  });
});

describe("bad specs name the field and the bound", () => {
  it.each([
    [{ mode: "async", ratePerSecond: -5, durationSeconds: 10 }, "ratePerSecond", /above 0/],
    [{ mode: "async", stages: [{ durationSeconds: 10, ratePerSecond: -1 }] }, "stages.0.ratePerSecond", /at least 0/],
    [
      {
        mode: "async",
        stages: [
          { durationSeconds: 400, ratePerSecond: 10 },
          { durationSeconds: 300, ratePerSecond: 10 },
        ],
      },
      "stages",
      /700 s: at most 600 seconds/,
    ],
    [
      { mode: "async", stages: [{ durationSeconds: 10, ratePerSecond: 9000 }] },
      "stages.0.ratePerSecond",
      /at most 5000/,
    ],
    [{ mode: "async", stages: [] }, "stages", /at least one/],
    [
      { mode: "async", stages: [{ durationSeconds: 10, ratePerSecond: 5 }], durationSeconds: 20 },
      "durationSeconds",
      /stages' total \(10 s\)/,
    ],
    [{ mode: "async", ratePerSecond: 5, durationSeconds: 5, arrival: "bursty" }, "arrival", /constant or poisson/],
    [
      { mode: "async", ratePerSecond: 5, durationSeconds: 5, thresholds: [{ metric: "p95Ms", max: 1 }] },
      "thresholds.0.metric",
      /one of p99Ms/,
    ],
    [
      { mode: "async", ratePerSecond: 5, durationSeconds: 5, thresholds: [{ metric: "p99Ms", max: -1 }] },
      "thresholds.0.max",
      /at least 0/,
    ],
    [
      { mode: "async", ratePerSecond: 5, durationSeconds: 5, thresholds: [{ metric: "failureRatio", max: 2 }] },
      "thresholds.0.max",
      /at most 1/,
    ],
    [
      {
        mode: "async",
        ratePerSecond: 5,
        durationSeconds: 5,
        thresholds: [
          { metric: "p99Ms", max: 1 },
          { metric: "p99Ms", max: 2 },
        ],
      },
      "thresholds.1.metric",
      /twice/,
    ],
    [
      { mode: "async", users: 5, spawnRate: 1, durationSeconds: 5, thresholds: [{ metric: "drain", max: 1 }] },
      "thresholds.0.metric",
      /drainSeconds/,
    ],
  ])("rejects %j naming %s", (body, field, message) => {
    try {
      parseBurstSpec(body);
      expect.unreachable();
    } catch (error) {
      const details = (error as { details: Array<{ field: string; message: string }> }).details;
      expect(details.map((d) => d.field)).toContain(field);
      expect(details.find((d) => d.field === field)?.message).toMatch(message);
    }
  });
});
