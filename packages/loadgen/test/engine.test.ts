import { describe, expect, it } from "vitest";
import {
  Burst,
  BurstChangeError,
  type BurstSpec,
  formatLocustSummary,
  parseBurstChange,
  parseBurstSpec,
  parseDurationSeconds,
  parseRatePerSecond,
  resolveOwnTarget,
  timelineCsv,
} from "../src/index.js";
import { FakeTarget, ManualClock, rateSpec as rate, seededRandom, usersSpec as users } from "./fakes.js";

function setup(spec: BurstSpec, latencyMs?: (i: number) => number, status?: (i: number) => number) {
  const clock = new ManualClock();
  const target = new FakeTarget(clock, latencyMs, status);
  const burst = new Burst({ spec, target, targetUrl: "http://127.0.0.1:1", clock, random: seededRandom(7) });
  return { clock, target, burst };
}

describe("Locust user model (manual clock)", () => {
  it("spawns users at the spawn rate up to the user count", async () => {
    const { clock, burst } = setup(users({ users: 20, spawnRate: 10 }));
    void burst.start();
    const active = () => burst.stats().users?.active;
    await clock.advance(0);
    expect(active()).toBe(1); // the first user starts at t = 0
    await clock.advance(450); // users at 0, 100, …, 400 ms
    expect(active()).toBe(5);
    await clock.advance(500); // … 900 ms
    expect(active()).toBe(10);
    await clock.advance(1000); // … 1900 ms: all 20
    expect(active()).toBe(20);
    await clock.advance(5000);
    expect(active()).toBe(20); // never more than asked for
    expect(
      burst
        .stats()
        .timeline.slice(2)
        .every((p) => p.users === 20),
    ).toBe(true);
    await burst.stop();
  });

  it("each user loops order → think: the request count is exactly what the schedule allows", async () => {
    // Fixed think time and latency make every user's cycle exactly 240 ms, so the count is exact:
    // user i starts at 100·i ms and its k-th answer arrives at 100·i + 240·k + 40 ms, counted while
    // strictly before 60 s (an answer due at the very end is cut off, as Locust does).
    const { clock, target, burst } = setup(users({ waitMinMs: 200, waitMaxMs: 200 }), () => 40);
    const done = burst.start();
    await clock.advance(60_000);
    const stats = await done;
    let expected = 0;
    for (let i = 0; i < 20; i++) expected += Math.ceil((60_000 - 40 - 100 * i) / 240);
    expect(stats.status).toBe("completed");
    expect(stats.requests).toBe(expected);
    expect(stats.failures).toBe(0);
    // Every user had one request in flight or was thinking at the end; in-flight ones were cut off.
    expect(stats.requests + stats.abandoned).toBe(target.calls.length);
    expect(stats.latencyMs.p50).toBeCloseTo(40, 0);
    expect(stats.elapsedSeconds).toBe(60);
    expect(stats.firstResponseAtSeconds).toBe(0.04);
    expect(stats.lastResponseAtSeconds).toBeLessThan(60);
    expect(stats.lastResponseAtSeconds).toBeGreaterThan(59.7);
    expect(stats.timeline).toHaveLength(60);
    expect(stats.timeline.reduce((sum, p) => sum + p.requests, 0)).toBe(stats.requests);
    expect(target.closed).toBe(true);
  });

  it("think time is uniform in [waitMinMs, waitMaxMs]", async () => {
    const { clock, target, burst } = setup(users({ users: 1, spawnRate: 1, waitMinMs: 100, waitMaxMs: 500 }), () => 0);
    const done = burst.start();
    await clock.advance(60_000);
    await done;
    const gaps = target.calls.slice(1).map((c, i) => c.at - (target.calls[i]?.at ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(500);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(270);
    expect(mean).toBeLessThan(330);
  });

  it("changes the user count live: fewer at once, more at the spawn rate", async () => {
    const { clock, burst } = setup(users({ users: 10, spawnRate: 10 }));
    void burst.start();
    await clock.advance(2000);
    expect(burst.stats().users).toEqual({ target: 10, active: 10, spawnRate: 10 });
    const change = burst.change({ users: 4 }, "alice");
    expect(change).toMatchObject({ by: "alice", before: { users: 10 }, after: { users: 4 } });
    expect(burst.stats().users?.active).toBe(4);
    await clock.advance(1000);
    expect(burst.stats().timeline.at(-1)?.users).toBe(4);
    burst.change({ users: 8 });
    await clock.advance(0);
    expect(burst.stats().users?.active).toBe(5); // the first new user starts at once
    await clock.advance(250);
    expect(burst.stats().users?.active).toBe(7); // then one every 100 ms
    await clock.advance(200);
    expect(burst.stats().users?.active).toBe(8);
    burst.change({ spawnRate: 2, users: 10 });
    await clock.advance(400);
    expect(burst.stats().users?.active).toBe(9); // one at once, the next 500 ms later
    await clock.advance(200);
    expect(burst.stats().users?.active).toBe(10);
    expect(burst.stats().changes).toHaveLength(3);
    expect(() => burst.change({ ratePerSecond: 5 })).toThrow(BurstChangeError);
    expect(() => burst.change({ users: 2001 })).toThrow(/users/);
    await burst.stop();
  });
});

describe("k6 arrival-rate model (manual clock)", () => {
  it("starts exactly rate × duration orders, whatever the answers take", async () => {
    const { clock, target, burst } = setup(rate({ ratePerSecond: 48, durationSeconds: 10 }), () => 30);
    const done = burst.start();
    await clock.advance(10_000);
    const stats = await done;
    expect(target.calls).toHaveLength(480);
    expect(stats.sent).toBe(480);
    expect(stats.timeline.every((p) => p.sent === 48)).toBe(true);
    expect(stats.requests).toBe(480 - stats.abandoned);
    // Arrival k at k/48 s: evenly spaced.
    const gaps = target.calls.slice(1).map((c, i) => c.at - (target.calls[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeCloseTo(1000 / 48, 6);
    for (const p of stats.timeline.slice(1)) expect(p.requests).toBe(48);
    expect(stats.timeline.every((p) => p.targetRatePerSecond === 48)).toBe(true);
  });

  it("holds its rate when the answers are slower than the arrivals (open loop)", async () => {
    const { clock, target, burst } = setup(rate({ ratePerSecond: 100, durationSeconds: 5 }), () => 3000);
    const done = burst.start();
    await clock.advance(5000);
    const stats = await done;
    expect(target.calls).toHaveLength(500);
    expect(target.peakInFlight).toBe(300); // 3 s of arrivals waiting at once
    expect(stats.requests).toBe(200); // answered within the 5 s
    expect(stats.abandoned).toBe(300);
  });

  it("changes the rate live from the last arrival on", async () => {
    const { clock, target, burst } = setup(rate({ ratePerSecond: 50, durationSeconds: 10 }), () => 5);
    const done = burst.start();
    await clock.advance(5000);
    burst.change({ ratePerSecond: 100 }, "bob");
    await clock.advance(5000);
    const stats = await done;
    expect(target.calls.filter((c) => c.at < 5000)).toHaveLength(250);
    expect(target.calls.filter((c) => c.at >= 5000)).toHaveLength(500);
    expect(stats.timeline[3]?.targetRatePerSecond).toBe(50);
    expect(stats.timeline[7]?.targetRatePerSecond).toBe(100);
    expect(stats.timeline[7]?.requests).toBe(100);
    expect(stats.ratePerSecond).toBe(100);
    expect(() => burst.change({ ratePerSecond: 1 })).toThrow(/completed/);
  });

  it("drops and counts arrivals beyond maxInFlight", async () => {
    const { clock, target, burst } = setup(
      rate({ ratePerSecond: 100, durationSeconds: 2, maxInFlight: 10 }),
      () => 500,
    );
    const done = burst.start();
    await clock.advance(2000);
    const stats = await done;
    expect(target.peakInFlight).toBe(10);
    expect(target.calls.length + stats.dropped).toBe(200);
    expect(stats.dropped).toBeGreaterThan(150);
    expect(stats.timeline.reduce((s, p) => s + p.dropped, 0)).toBe(stats.dropped);
  });
});

describe("burst results", () => {
  it("percentiles come from every answer; failures are counted by reason", async () => {
    // 1000 answers with latencies 1..100 ms (ten of each), every tenth a 503.
    const { clock, burst } = setup(
      rate({ ratePerSecond: 100, durationSeconds: 10 }),
      (i) => (i % 100) + 1,
      (i) => (i % 10 === 9 ? 503 : 202),
    );
    const done = burst.start();
    await clock.advance(10_200);
    const stats = await done;
    expect(stats.requests + stats.abandoned).toBe(1000);
    const l = stats.latencyMs;
    expect(l.min).toBe(1);
    expect(l.max).toBeLessThanOrEqual(100);
    expect(l.p50).toBeGreaterThanOrEqual(49);
    expect(l.p50).toBeLessThanOrEqual(51);
    expect(l.p99).toBeGreaterThanOrEqual(98);
    expect(l.p90).toBeGreaterThanOrEqual(89);
    expect(l.p90).toBeLessThanOrEqual(91);
    expect(stats.failures).toBe(stats.errors["HTTP 503"]);
    expect(stats.failureRatio).toBeCloseTo(0.1, 1);
    expect(stats.throughputPerSecond).toBeCloseTo(stats.requests / 10, 6);
    const summary = formatLocustSummary(stats);
    expect(summary).toMatch(/Aggregated/);
    expect(summary).toMatch(/POST \/orders\/async: HTTP 503/);
    const csv = timelineCsv(stats.timeline).trim().split("\n");
    expect(csv[0]).toBe(
      "second,interval_seconds,sent,requests,failures,requests_per_second,p50_ms,p99_ms,service_p99_ms,users,in_flight,target_rate_per_second,dropped",
    );
    expect(csv).toHaveLength(stats.timeline.length + 1);
  });

  it("a request slower than timeoutMs fails as a timeout", async () => {
    const { clock, burst } = setup(users({ users: 2, spawnRate: 10, durationSeconds: 5, timeoutMs: 500 }), () => 2000);
    const done = burst.start();
    await clock.advance(5000);
    const stats = await done;
    expect(stats.requests).toBeGreaterThan(0);
    expect(stats.failures).toBe(stats.requests);
    expect(stats.errors).toEqual({ timeout: stats.requests });
    expect(stats.latencyMs.max).toBe(500);
  });

  it("stop() ends it early: in-flight requests are cut off, nothing is sent after", async () => {
    const { clock, target, burst } = setup(users({ users: 5, spawnRate: 5 }), () => 3000);
    void burst.start();
    await clock.advance(3200);
    const stopping = burst.stop();
    await clock.advance(0);
    const stats = await stopping;
    const sent = target.calls.length;
    await clock.advance(10_000);
    expect(target.calls).toHaveLength(sent);
    expect(stats.status).toBe("stopped");
    expect(stats.elapsedSeconds).toBeCloseTo(3.2, 3);
    expect(stats.requests).toBe(2); // users start at 0, 200, … ms: only the first two answered by 3.2 s
    expect(stats.abandoned).toBe(sent - stats.requests);
    expect(target.closed).toBe(true);
    expect(stats.timeline.at(-1)?.intervalSeconds).toBeCloseTo(0.2, 3);
  });

  it("orders carry 1–5 random items, like the study's locustfile", async () => {
    const { clock, target, burst } = setup(rate({ ratePerSecond: 200, durationSeconds: 2 }));
    const done = burst.start();
    await clock.advance(2000);
    await done;
    const counts = new Set(target.calls.map((c) => (c.body as { items: unknown[] }).items.length));
    expect([...counts].sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe("burst spec", () => {
  it("accepts both models with their defaults", () => {
    expect(parseBurstSpec({ mode: "sync", users: 20, spawnRate: 10, durationSeconds: 60 })).toEqual(
      users({ mode: "sync" }),
    );
    expect(parseBurstSpec({ mode: "async", ratePerSecond: 48, durationSeconds: 60 })).toMatchObject({
      model: "arrival-rate",
      ratePerSecond: 48,
      maxInFlight: 2000,
    });
  });

  it.each([
    [{ mode: "async", users: 2001, spawnRate: 10, durationSeconds: 60 }, "users", /at most 2000/],
    [{ mode: "async", users: 0, spawnRate: 10, durationSeconds: 60 }, "users", /at least 1/],
    [{ mode: "async", ratePerSecond: 5001, durationSeconds: 60 }, "ratePerSecond", /at most 5000/],
    [{ mode: "async", ratePerSecond: 10, durationSeconds: 601 }, "durationSeconds", /at most 600/],
    [{ mode: "async", users: 5, spawnRate: 1, durationSeconds: 9, waitMinMs: 500, waitMaxMs: 100 }, "waitMaxMs", /.+/],
    [{ mode: "later", ratePerSecond: 10, durationSeconds: 6 }, "mode", /sync or async/],
    [{ mode: "async", ratePerSecond: 10, users: 5, spawnRate: 1, durationSeconds: 6 }, "ratePerSecond", /not both/],
    [{ mode: "async", durationSeconds: 6 }, "users", /.+/],
    [{ mode: "async", ratePerSecond: 10, durationSeconds: 6, extra: 1 }, "body", /.+/],
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

  it("changes are bounded like starts", () => {
    expect(parseBurstChange({ users: 40 })).toEqual({ users: 40 });
    expect(() => parseBurstChange({ users: 4000 })).toThrow(/at most 2000/);
    expect(() => parseBurstChange({ ratePerSecond: 9000 })).toThrow(/at most 5000/);
    expect(() => parseBurstChange({})).toThrow(/give users/);
  });

  it("targets only this deployment's own API", () => {
    expect(resolveOwnTarget(undefined, "http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
    expect(resolveOwnTarget("http://127.0.0.1:8080/", "http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
    expect(resolveOwnTarget("HTTP://API.example.com:443/", "http://api.example.com:443")).toBe(
      "http://api.example.com:443",
    );
    for (const foreign of [
      "http://127.0.0.1:8081",
      "https://shop.example.com",
      "http://127.0.0.1:8080/other",
      "ftp://x",
    ]) {
      expect(() => resolveOwnTarget(foreign, "http://127.0.0.1:8080")).toThrow(/target|URL/);
    }
  });

  it("reads Locust's durations and k6-style rates", () => {
    expect(parseDurationSeconds("60s")).toBe(60);
    expect(parseDurationSeconds("2m")).toBe(120);
    expect(parseDurationSeconds("1m30s")).toBe(90);
    expect(parseDurationSeconds("45")).toBe(45);
    expect(parseDurationSeconds("500ms")).toBe(0.5);
    expect(() => parseDurationSeconds("soon")).toThrow(RangeError);
    expect(parseRatePerSecond("48/s")).toBe(48);
    expect(parseRatePerSecond("48")).toBe(48);
    expect(parseRatePerSecond("2880/m")).toBe(48);
    expect(() => parseRatePerSecond("fast")).toThrow(RangeError);
  });
});
