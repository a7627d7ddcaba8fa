import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenLoopGenerator, startOpenLoopProcess } from "../lib/open-loop.js";

/** A loopback server that answers 202, or `status` when set, and counts what it received. */
async function countingServer(): Promise<{ server: Server; url: string; received: () => number; status: number[] }> {
  let received = 0;
  const status = [202];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(status[0] ?? 202, { "content-type": "application/json" }).end('{"status":"queued"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, received: () => received, status };
}

describe("the benchmarks' open-loop generator", () => {
  let generator: OpenLoopGenerator;
  let target: Awaited<ReturnType<typeof countingServer>>;

  beforeAll(async () => {
    generator = await startOpenLoopProcess();
    target = await countingServer();
  });
  afterAll(async () => {
    await generator.stop();
    target.server.close();
  });

  it("sends every scheduled arrival and accounts for each one", async () => {
    const before = target.received();
    const r = await generator.run({ baseUrl: target.url, ratePerSecond: 100, durationSeconds: 1, arrival: "constant" });
    // Constant arrivals at 100/s over 1 s: arrivals 0, 10, …, 990 ms.
    expect(r.sent).toBe(100);
    expect(r.requests + r.abandoned).toBe(r.sent);
    expect(target.received() - before).toBeGreaterThanOrEqual(r.requests);
    expect(r.failures).toBe(0);
    expect(r.dropped).toBe(0);
    expect(r.achievedPerSecond).toBe(r.requests);
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.serviceTimeMs.p50);
    expect(r.scheduleLagMs.max).toBeGreaterThanOrEqual(0);
    expect(r.generatorCpuPercent).toBeGreaterThan(0);
  });

  it("counts refusals as failures by status", async () => {
    target.status[0] = 503;
    try {
      const r = await generator.run({ baseUrl: target.url, ratePerSecond: 50, durationSeconds: 1 });
      expect(r.requests).toBeGreaterThan(0);
      expect(r.failures).toBe(r.requests);
      expect(r.errors["HTTP 503"]).toBe(r.requests);
    } finally {
      target.status[0] = 202;
    }
  });

  it("runs in a process of its own: a stalled server shows in latency, not in the generator's schedule", async () => {
    const stallMs = 1500;
    const run = generator.run({ baseUrl: target.url, ratePerSecond: 100, durationSeconds: 3, arrival: "constant" });
    // Block this process (the server's) once the run is under way; the generator keeps its schedule.
    await new Promise((r) => setTimeout(r, 700));
    const until = performance.now() + stallMs;
    while (performance.now() < until) {
      // busy: the server's event loop is stalled
    }
    const r = await run;
    expect(r.failures).toBe(0);
    // The arrival due as the stall began waited for all of it, measured from its schedule…
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(stallMs * 0.9);
    // …and the generator, in another process, sent it on time: its own lag stayed far below the stall.
    expect(r.scheduleLagMs.max).toBeLessThan(stallMs / 2);
  });
});
