/**
 * `npm run study:drain` — Test 3's flash sale into one worker task at concurrency 1, watched until
 * the last order is paid, replayed scaled in time. Writes reports/study-drain.svg, .md and .json.
 *
 *   npm run study:drain                       # time scale 0.03: ~6 min for ~3 hours of study time
 *   npm run study:drain -- --time-scale 0.02  # quicker, coarser
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { repoRoot, requireBundles } from "./lib/stack.js";
import { type DrainResult, renderDrainReport, renderDrainSvg, thin } from "./study/drain.js";
import { TEST3 } from "./study/report.js";
import { runAsyncStep } from "./study/run.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "time-scale": { type: "string" },
      "out-dir": { type: "string" },
      "drain-timeout-minutes": { type: "string" },
    },
  });
  const timeScale = Number(values["time-scale"] ?? 0.03);
  if (!(timeScale >= 0.01 && timeScale <= 1)) throw new RangeError("--time-scale must be in [0.01, 1]");
  // Study minutes; at the default scale 300 study minutes are 9 real minutes.
  const drainTimeoutMinutes = Number(values["drain-timeout-minutes"] ?? 300);
  if (!(drainTimeoutMinutes > 0 && drainTimeoutMinutes <= 600))
    throw new RangeError("--drain-timeout-minutes must be in (0, 600]");
  requireBundles(repoRoot);
  const outDir = resolve(values["out-dir"] ?? join(repoRoot, "reports"));
  const started = performance.now();
  const log = (line: string) =>
    console.error(`[study:drain ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}`);
  log(`time scale ${timeScale}: payment ${3000 * timeScale} ms; one task at concurrency 1`);
  const step = await runAsyncStep({ repoRoot, timeScale, log }, TEST3, 1, {
    observeSeconds: 60,
    fullDrain: true,
    drainTimeoutSeconds: drainTimeoutMinutes * 60,
  });
  log(
    `backlog ${step.backlogAtBurstEnd}, ${step.drainObservedMs !== undefined ? `drained in ${(step.drainObservedMs / 1000).toFixed(0)} s real` : "not drained by the deadline"}`,
  );
  const cpu = cpus();
  const result: DrainResult = {
    generatedAt: `${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC`,
    host: `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, ${process.platform}`,
    timeScale,
    wallSeconds: (performance.now() - started) / 1000,
    loadAverage: loadavg()[0] ?? 0,
    step,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "study-drain.svg"), renderDrainSvg(result));
  writeFileSync(join(outDir, "study-drain.md"), renderDrainReport(result, "study-drain.svg"));
  // The samples thinned as the picture draws them: the full run is tens of thousands of samples.
  const kept = {
    ...result,
    step: { ...step, samples: thin(step.samples, 2000), burst: { ...step.burst, timeline: [] } },
  };
  writeFileSync(join(outDir, "study-drain.json"), `${JSON.stringify(kept, null, 1)}\n`);
  console.log(`Wrote ${join(outDir, "study-drain.md")}, study-drain.svg and study-drain.json`);
  return step.drainObservedMs !== undefined ? 0 : 1;
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
