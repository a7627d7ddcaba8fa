/**
 * `npm run study:sync-demand` — the synchronous path under open-loop demand at the rates the study
 * discusses (3.5, 20 and 60 orders/s), each customer giving up after a 10 s client timeout. Writes
 * reports/study-sync-demand.md and .json: the study's estimated "~52% lost" beside what happens.
 *
 *   npm run study:sync-demand                                  # 60 s per rate, ~4 min
 *   npm run study:sync-demand -- --duration 20 --rates 3.5,60  # shorter
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Burst, type BurstMode, HttpOrderTarget, type OrderTarget } from "@surge/loadgen";
import { repoRoot, requireBundles, startBenchStack } from "./lib/stack.js";
import { studyStackEnv } from "./study/figures.js";
import {
  type DemandOutcome,
  renderSyncDemand,
  SYNC_DEMAND_LEVELS,
  type SyncDemandResult,
  type SyncDemandRun,
} from "./study/sync-demand.js";

/** One order as the customer lived it: sent, then answered, refused, given up on, or still waiting. */
interface OrderRecord {
  sentAt: number;
  endedAt?: number;
  outcome?: "paid" | "refused" | "gave-up";
}

/**
 * Wraps the HTTP target to time every order itself, so the counts do not depend on which clock
 * the engine reports latency from; the engine still schedules arrivals and enforces the timeout.
 */
class RecordingTarget implements OrderTarget {
  readonly orders: OrderRecord[] = [];
  constructor(readonly inner: OrderTarget) {}

  async placeOrder(mode: BurstMode, body: string, signal: AbortSignal): Promise<{ status: number }> {
    const record: OrderRecord = { sentAt: performance.now() };
    this.orders.push(record);
    try {
      const answer = await this.inner.placeOrder(mode, body, signal);
      record.endedAt = performance.now();
      record.outcome = answer.status >= 200 && answer.status < 300 ? "paid" : "refused";
      return answer;
    } catch (error) {
      // The engine aborts with "timeout after N ms" when the customer gives up; any other abort is
      // the end of the run cutting the order off (not counted, as Locust does); no abort is a refusal.
      const reason: unknown = signal.reason;
      if (!signal.aborted) record.outcome = "refused";
      else if (reason instanceof Error && reason.message.startsWith("timeout after")) record.outcome = "gave-up";
      if (record.outcome) record.endedAt = performance.now();
      throw error;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function outcome(target: RecordingTarget, endedAt: number, dropped: number): DemandOutcome {
  const answeredWaits: number[] = [];
  const o: DemandOutcome = {
    arrivals: target.orders.length + dropped,
    answered: 0,
    waitedPast5s: 0,
    timedOut: 0,
    refused: dropped,
    cutOff: 0,
    dropped: 0,
    p50Ms: Number.NaN,
    maxMs: Number.NaN,
  };
  for (const r of target.orders) {
    const felt = (r.endedAt ?? endedAt) - r.sentAt;
    if (felt > 5000) o.waitedPast5s++;
    if (r.outcome === "paid") {
      o.answered++;
      answeredWaits.push(felt);
    } else if (r.outcome === "gave-up") o.timedOut++;
    else if (r.outcome === "refused") o.refused++;
    else o.cutOff++;
  }
  if (answeredWaits.length > 0) {
    answeredWaits.sort((a, b) => a - b);
    o.p50Ms = answeredWaits[Math.ceil(answeredWaits.length / 2) - 1] ?? Number.NaN;
    o.maxMs = answeredWaits[answeredWaits.length - 1] ?? Number.NaN;
  }
  return o;
}

async function runRate(ratePerSecond: number, durationSeconds: number, timeoutMs: number): Promise<SyncDemandRun> {
  const dataDir = mkdtempSync(join(tmpdir(), "surge-sync-demand-"));
  const bench = await startBenchStack({
    repoRoot,
    dataDir,
    name: "sync-demand",
    workerTasks: 0,
    workerConcurrency: 1,
    env: studyStackEnv(),
    supervisor: { stopTimeoutMs: 10_000 },
  });
  try {
    const target = new RecordingTarget(new HttpOrderTarget(bench.stack.apiUrl, { userAgent: "surge-study" }));
    const burst = new Burst({
      spec: { model: "arrival-rate", mode: "sync", ratePerSecond, durationSeconds, timeoutMs, maxInFlight: 2000 },
      target,
      targetUrl: bench.stack.apiUrl,
      startedBy: "study",
    });
    const stats = await burst.start();
    const endedAt = performance.now();
    await target.close();
    return {
      ratePerSecond,
      durationSeconds,
      timeoutMs,
      measured: outcome(target, endedAt, stats.dropped),
      loadAverage: loadavg()[0] ?? 0,
    };
  } finally {
    await bench.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rates: { type: "string" },
      duration: { type: "string" },
      "timeout-ms": { type: "string" },
      "out-dir": { type: "string" },
    },
  });
  const rates = (values.rates ?? SYNC_DEMAND_LEVELS.map((l) => l.ratePerSecond).join(",")).split(",").map(Number);
  const durationSeconds = Number(values.duration ?? 60);
  const timeoutMs = Number(values["timeout-ms"] ?? 10_000);
  if (rates.some((r) => !(r > 0 && r <= 100))) throw new RangeError("--rates must be in (0, 100] orders/s");
  if (!(durationSeconds >= 5 && durationSeconds <= 120)) throw new RangeError("--duration must be in 5..120 s");
  if (!(timeoutMs >= 1000 && timeoutMs <= 60_000)) throw new RangeError("--timeout-ms must be in 1000..60000");
  requireBundles(repoRoot);
  const outDir = resolve(values["out-dir"] ?? join(repoRoot, "reports"));
  const started = performance.now();
  const runs: SyncDemandRun[] = [];
  for (const rate of rates) {
    console.error(`[sync-demand] ${rate}/s for ${durationSeconds} s, ${timeoutMs} ms client timeout`);
    const run = await runRate(rate, durationSeconds, timeoutMs);
    const m = run.measured;
    console.error(
      `  ${m.arrivals} arrivals: ${m.answered} answered, ${m.waitedPast5s} waited > 5 s, ` +
        `${m.timedOut} gave up, ${m.refused} refused, ${m.cutOff} cut off (load ${run.loadAverage.toFixed(2)})`,
    );
    runs.push(run);
  }
  const cpu = cpus();
  const result: SyncDemandResult = {
    generatedAt: `${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC`,
    host: `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, ${process.platform}`,
    wallSeconds: (performance.now() - started) / 1000,
    runs,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "study-sync-demand.md"), renderSyncDemand(result));
  writeFileSync(join(outDir, "study-sync-demand.json"), `${JSON.stringify(result, null, 1)}\n`);
  console.log(`Wrote ${join(outDir, "study-sync-demand.md")} and study-sync-demand.json`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`study:sync-demand: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
