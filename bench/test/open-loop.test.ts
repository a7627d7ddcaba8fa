import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenLoopGenerator, startOpenLoopProcess } from "../lib/open-loop.js";

/** A loopback server that answers 202, or `status` when set, and counts what it received. */
async function countingServer() {
  let received = 0;
  let open = 0;
  let mostOpen = 0;
  const status = [202];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(status[0] ?? 202, { "content-type": "application/json" }).end('{"status":"queued"}');
    });
  });
  server.on("connection", (socket) => {
    mostOpen = Math.max(mostOpen, ++open);
    socket.on("close", () => open--);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, received: () => received, mostOpen: () => mostOpen, status };
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

  it("opens no more connections than it is given, however far the server falls behind", async () => {
    const fresh = await countingServer();
    fresh.server.on("request", (_req, res) => {
      // Every answer waits 50 ms: at 200/s, 10 requests are in flight at once on average.
      const end = res.end.bind(res);
      res.end = ((...args: Parameters<typeof res.end>) => {
        setTimeout(() => end(...args), 50);
        return res;
      }) as typeof res.end;
    });
    try {
      const run = generator.run({ baseUrl: fresh.url, ratePerSecond: 200, durationSeconds: 2, connections: 2 });
      // Read while the load runs: the end of a run aborts what is queued, and undici replaces a socket per abort.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const mostOpenDuringRun = fresh.mostOpen();
      const r = await run;
      expect(r.requests).toBeGreaterThan(0);
      expect(r.failures).toBe(0);
      expect(mostOpenDuringRun).toBeGreaterThan(0);
      expect(mostOpenDuringRun).toBeLessThanOrEqual(2);
      // Arrivals queued for one of the two connections: that wait is in the latency, not in the service time.
      expect(r.latencyMs.p99).toBeGreaterThan(r.serviceTimeMs.p99);
    } finally {
      fresh.server.close();
    }
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
