/**
 * `npm run bench:concurrency-resources` — what one worker task costs at concurrency 1, 5, 20 and
 * 100 (issue 17, part 4): its RSS and CPU while it works through a standing backlog with the
 * study's physics (5 slots, 3 s payments), beside the study's table of guesses
 * (flash-sale-report.txt:2267-2273). Writes reports/concurrency-resources.md and .json.
 *
 *   npm run bench:concurrency-resources                       # 4 × ~50 s
 *   npm run bench:concurrency-resources -- --window 15        # shorter measuring window
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Burst, HttpOrderTarget } from "@surge/loadgen";
import { repoRoot, requireBundles, startBenchStack } from "./lib/stack.js";
import {
  type ConcurrencyResources,
  type ResourcesResult,
  renderConcurrencyResources,
} from "./study/concurrency-resources.js";
import { studyStackEnv } from "./study/figures.js";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function cpuTicks(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of those.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function measure(
  concurrency: number,
  options: { preload: number; warmupSeconds: number; windowSeconds: number },
): Promise<ConcurrencyResources> {
  const dataDir = mkdtempSync(join(tmpdir(), "surge-resources-"));
  const bench = await startBenchStack({
    repoRoot,
    dataDir,
    name: "resources",
    workerTasks: 1,
    workerConcurrency: concurrency,
    env: studyStackEnv(),
    supervisor: { stopTimeoutMs: 10_000 },
  });
  try {
    const { stack } = bench;
    const deadline = Date.now() + 30_000;
    while (stack.supervisor.snapshot().running < 1) {
      if (Date.now() > deadline) throw new Error("the worker task did not start");
      await sleep(100);
    }
    const task = () => stack.supervisor.snapshot().tasks[0];
    const pid = task()?.pid;
    if (pid === undefined) throw new Error("the worker task has no pid");
    const idleRssMb = rssMb(pid);
    // A standing backlog the task cannot finish in the window, even at 5 ÷ 3 s.
    const target = new HttpOrderTarget(stack.apiUrl, { userAgent: "surge-bench" });
    const preload = await new Burst({
      spec: {
        model: "arrival-rate",
        mode: "async",
        ratePerSecond: 200,
        durationSeconds: options.preload / 200,
        maxInFlight: 2000,
        timeoutMs: 30_000,
      },
      target,
      targetUrl: stack.apiUrl,
      startedBy: "bench",
    }).start();
    await target.close();
    await sleep(options.warmupSeconds * 1000);
    const t0 = performance.now();
    const ticks0 = cpuTicks(pid);
    const processed0 = task()?.processed ?? 0;
    const rss: number[] = [];
    let inFlightPeak = 0;
    while (performance.now() - t0 < options.windowSeconds * 1000) {
      rss.push(rssMb(pid));
      inFlightPeak = Math.max(inFlightPeak, task()?.inFlight ?? 0);
      await sleep(500);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = (cpuTicks(pid) - ticks0) / TICKS_PER_SECOND;
    const paid = (task()?.processed ?? 0) - processed0;
    rss.sort((a, b) => a - b);
    return {
      concurrency,
      accepted: preload.requests - preload.failures,
      idleRssMb,
      rssMedianMb: rss[Math.floor(rss.length / 2)] ?? Number.NaN,
      rssMaxMb: rss[rss.length - 1] ?? Number.NaN,
      cpuPercentOfOneCore: (cpuSeconds / seconds) * 100,
      cpuMsPerOrder: paid > 0 ? (cpuSeconds * 1000) / paid : Number.NaN,
      paidPerSecond: paid / seconds,
      inFlightPeak,
      windowSeconds: seconds,
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
      window: { type: "string", default: "30" },
      warmup: { type: "string", default: "10" },
      preload: { type: "string", default: "400" },
      "out-dir": { type: "string" },
    },
  });
  const windowSeconds = Number(values.window);
  const warmupSeconds = Number(values.warmup);
  const preload = Number(values.preload);
  if (!(windowSeconds >= 5 && windowSeconds <= 120)) throw new RangeError("--window must be in 5..120 s");
  if (!(warmupSeconds >= 0 && warmupSeconds <= 60)) throw new RangeError("--warmup must be in 0..60 s");
  if (!(preload >= 200 && preload <= 2000)) throw new RangeError("--preload must be in 200..2000 orders");
  requireBundles(repoRoot);
  const started = performance.now();
  const levels: ConcurrencyResources[] = [];
  for (const concurrency of [1, 5, 20, 100]) {
    console.error(`[concurrency-resources] concurrency ${concurrency}`);
    const level = await measure(concurrency, { preload, warmupSeconds, windowSeconds });
    console.error(
      `  RSS ${level.rssMedianMb.toFixed(1)} MB, CPU ${level.cpuPercentOfOneCore.toFixed(1)}% of a core, ` +
        `${level.paidPerSecond.toFixed(2)} paid/s, ${level.inFlightPeak} in flight`,
    );
    levels.push(level);
  }
  const cpu = cpus();
  const result: ResourcesResult = {
    generatedAt: `${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC`,
    host: `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, ${process.platform}`,
    wallSeconds: (performance.now() - started) / 1000,
    levels,
  };
  const outDir = resolve(values["out-dir"] ?? join(repoRoot, "reports"));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "concurrency-resources.md"), renderConcurrencyResources(result));
  writeFileSync(join(outDir, "concurrency-resources.json"), `${JSON.stringify(result, null, 1)}\n`);
  console.log(`Wrote ${join(outDir, "concurrency-resources.md")}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(
        `concurrency-resources: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
