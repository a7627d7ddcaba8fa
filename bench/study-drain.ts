/**
 * `npm run study:drain` — the one-worker drain over its whole length. Test 3's flash sale runs at
 * the study's real time against the API alone (one worker goroutine would have paid ~20 of the
 * ~3,900 orders in that minute); then one worker task at concurrency 1 drains the backlog with
 * payments scaled in time, watched until the last order is paid. Writes reports/study-drain.svg,
 * .md and .json.
 *
 *   npm run study:drain                       # payments at 0.03 × 3 s: ~7 min for ~3 study hours
 *   npm run study:drain -- --time-scale 0.02  # quicker; Surge's own per-order work weighs more
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { openOrderStore } from "@surge/core";
import { repoRoot, requireBundles, startBenchStack } from "./lib/stack.js";
import { type DrainResult, type DrainSample, renderDrainReport, renderDrainSvg, thin } from "./study/drain.js";
import { studyStackEnv } from "./study/figures.js";
import { TEST3 } from "./study/report.js";
import { paidSlopePerSecond, runBurst, scaledSpec } from "./study/run.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "time-scale": { type: "string" },
      "out-dir": { type: "string" },
      "drain-timeout-minutes": { type: "string" },
    },
  });
  const k = Number(values["time-scale"] ?? 0.03);
  if (!(k >= 0.01 && k <= 1)) throw new RangeError("--time-scale must be in [0.01, 1]");
  // Study minutes; at the default scale 300 study minutes are 9 real minutes.
  const drainTimeoutMinutes = Number(values["drain-timeout-minutes"] ?? 300);
  if (!(drainTimeoutMinutes > 0 && drainTimeoutMinutes <= 600))
    throw new RangeError("--drain-timeout-minutes must be in (0, 600]");
  requireBundles(repoRoot);
  const outDir = resolve(values["out-dir"] ?? join(repoRoot, "reports"));
  const started = performance.now();
  const log = (line: string) =>
    console.error(`[study:drain ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}`);
  const dataDir = mkdtempSync(join(tmpdir(), "surge-drain-"));
  const bench = await startBenchStack({
    repoRoot,
    dataDir,
    name: "study-drain",
    workerTasks: 0,
    maxWorkerTasks: 1,
    workerConcurrency: 1,
    env: studyStackEnv(k),
    supervisor: { stopTimeoutMs: 10_000 },
  });
  const store = openOrderStore({ dataDir });
  try {
    log("Test 3's flash sale at the study's real time (20 users, 10/s, 60 s), no worker yet");
    const burst = await runBurst(bench.stack.apiUrl, scaledSpec(TEST3, 1));
    const counts = async () => {
      const c = await store.countByStatus();
      const accepted = Object.values(c).reduce((a, b) => a + b, 0);
      return { accepted, paid: c.paid, dead: c.dead };
    };
    const atStart = await counts();
    log(`${atStart.accepted} accepted; one worker task at concurrency 1, payments of ${3000 * k} ms`);
    bench.stack.supervisor.setDesiredCount(1);
    const t0 = performance.now();
    const samples: DrainSample[] = [];
    const deadline = t0 + drainTimeoutMinutes * 60_000 * k;
    let drainedRealMs: number | undefined;
    for (;;) {
      const [c, depth] = await Promise.all([counts(), bench.queue.depth()]);
      const tMs = performance.now() - t0;
      samples.push({ tMs, waiting: c.accepted - c.paid - c.dead, visible: depth.visible, paid: c.paid });
      if (c.paid + c.dead >= c.accepted) {
        drainedRealMs = tMs;
        break;
      }
      if (performance.now() > deadline) break;
      await sleep(200);
    }
    log(
      drainedRealMs !== undefined
        ? `drained in ${(drainedRealMs / 1000).toFixed(0)} s real`
        : "not drained by the deadline",
    );
    const cpu = cpus();
    const result: DrainResult = {
      generatedAt: `${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC`,
      host: `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, ${process.platform}`,
      timeScale: k,
      wallSeconds: (performance.now() - started) / 1000,
      loadAverage: loadavg()[0] ?? 0,
      accepted: atStart.accepted,
      acceptPerSecond: burst.throughputPerSecond,
      acceptP99Ms: burst.latencyMs.p99,
      backlogAtStart: atStart.accepted - atStart.paid - atStart.dead,
      ...(drainedRealMs !== undefined && { drainedRealMs }),
      // Paid orders per study second: the least-squares slope of the paid count, real rate × k.
      processingPerSecond:
        paidSlopePerSecond(
          samples.map((s) => ({ tMs: s.tMs, paid: s.paid, visible: s.visible, inFlight: 0, accepted: 0 })),
        ) * k,
      samples: thin(samples, 2000),
    };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "study-drain.svg"), renderDrainSvg(result));
    writeFileSync(join(outDir, "study-drain.md"), renderDrainReport(result, "study-drain.svg"));
    writeFileSync(join(outDir, "study-drain.json"), `${JSON.stringify(result, null, 1)}\n`);
    console.log(`Wrote ${join(outDir, "study-drain.md")}, study-drain.svg and study-drain.json`);
    return drainedRealMs !== undefined ? 0 : 1;
  } finally {
    await store.close();
    await bench.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`study:drain: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
