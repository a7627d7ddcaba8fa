/**
 * `npm run study` — reproduces the flash-sale study (seed/flash-sale-report.txt)
 * on a local stack and writes reports/study.md with every table it has, theory,
 * measurement and the study's own number side by side, plus SVG charts.
 *
 *   npm run study                      # the study's real time (~11 min)
 *   npm run study -- --time-scale 0.1  # 1/10 of it, for CI (~1.5 min)
 *   npm run study --time-scale 0.1     # the same (npm hands the value over differently)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { errorMessage } from "@surge/core";
import {
  checks,
  renderCharts,
  renderReport,
  type StudyResult,
  SWEEP_CONCURRENCY,
  TEST1,
  TEST2,
  TEST3,
} from "./study/report.js";
import { type AsyncStepResult, runAsyncStep, runSyncTest } from "./study/run.js";

interface StudyArgs {
  timeScale: number;
  outDir: string;
  /** Study seconds to watch the queue after each sweep burst. */
  observeSeconds: number;
  fullDrain: boolean;
  /** With fullDrain: give up on a step after this many study seconds. */
  drainTimeoutSeconds: number;
  /** Exit 1 when an acceptance check fails. */
  strict: boolean;
  /** Re-render the report from a previous run's study.json instead of running the experiments. */
  fromJson?: string;
}

/**
 * Reads the command line. `npm run study --time-scale 0.1` (no `--`) reaches the
 * program as npm_config_time_scale="true" plus a bare "0.1", so that form is
 * accepted too: it is the one the issue writes.
 */
export function parseStudyArgs(argv: ReadonlyArray<string>, npmConfig: { timeScale?: string | undefined }): StudyArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      "time-scale": { type: "string" },
      "out-dir": { type: "string" },
      "observe-seconds": { type: "string" },
      "full-drain": { type: "boolean" },
      "drain-timeout-seconds": { type: "string" },
      strict: { type: "boolean" },
      from: { type: "string" },
    },
  });
  const fromNpm =
    npmConfig.timeScale && npmConfig.timeScale !== "true"
      ? npmConfig.timeScale
      : npmConfig.timeScale
        ? positionals[0]
        : undefined;
  const timeScale = Number(values["time-scale"] ?? fromNpm ?? 1);
  if (!(timeScale > 0 && timeScale <= 1)) throw new RangeError(`--time-scale must be in (0, 1], got ${timeScale}`);
  const observeSeconds = Number(values["observe-seconds"] ?? 60);
  if (!(observeSeconds >= 5)) throw new RangeError("--observe-seconds must be at least 5");
  return {
    timeScale,
    outDir: resolve(values["out-dir"] ?? "reports"),
    observeSeconds,
    fullDrain: values["full-drain"] ?? false,
    drainTimeoutSeconds: Number(values["drain-timeout-seconds"] ?? 4 * 3600),
    strict: values.strict ?? false,
    ...(values.from !== undefined && { fromJson: resolve(values.from) }),
  };
}

/** Runs every experiment; undefined when the bundles it needs are missing. */
async function runStudy(repoRoot: string, args: StudyArgs): Promise<StudyResult | undefined> {
  for (const bundle of ["api/dist/main.js", "worker/dist/main.js"]) {
    if (!existsSync(join(repoRoot, bundle))) {
      console.error(`study: ${bundle} is missing: run \`npm run build\` first (npm run study does it for you)`);
      return undefined;
    }
  }
  const started = performance.now();
  const k = args.timeScale;
  const log = (line: string) =>
    console.error(`[study ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}`);
  const settings = { repoRoot, timeScale: k, log };
  const hostLoad: StudyResult["hostLoad"] = [];
  const noteLoad = (experiment: string) => hostLoad.push({ experiment, loadAverage1m: loadavg()[0] ?? 0 });

  log(`time scale ${k}: payment ${3000 * k} ms, think ${100 * k}–${500 * k} ms, Test 2 lasts ${60 * k} s`);
  log("Test 1: 5 users, 1/s, 30 s, sync");
  const test1 = await runSyncTest(settings, TEST1);
  noteLoad("Test 1");
  log(`  ${test1.requests} requests, median ${(test1.latencyMs.p50 / k).toFixed(0)} ms (study time)`);
  log("Test 2: 20 users, 10/s, 60 s, sync");
  const test2 = await runSyncTest(settings, TEST2);
  noteLoad("Test 2");
  log(`  ${test2.requests} requests, median ${(test2.latencyMs.p50 / k).toFixed(0)} ms (study time)`);
  const sweep: AsyncStepResult[] = [];
  for (const concurrency of SWEEP_CONCURRENCY) {
    log(`Async flash sale, 1 worker task at concurrency ${concurrency}${concurrency === 1 ? " (Test 3)" : ""}`);
    const step = await runAsyncStep(settings, TEST3, concurrency, {
      observeSeconds: args.observeSeconds,
      fullDrain: args.fullDrain,
      drainTimeoutSeconds: args.drainTimeoutSeconds,
    });
    sweep.push(step);
    noteLoad(`concurrency ${concurrency}`);
    log(
      `  ${step.burst.requests} accepted, p99 ${step.burst.latencyMs.p99.toFixed(1)} ms, ` +
        `processing ${(step.processingPerSecondReal * k).toFixed(2)}/s, backlog ${step.backlogAtBurstEnd}`,
    );
  }

  const cpu = cpus();
  return {
    generatedAt: new Date().toISOString(),
    timeScale: k,
    observeSeconds: args.observeSeconds,
    fullDrain: args.fullDrain,
    host: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? "unknown CPU",
      node: process.version,
      platform: process.platform,
    },
    wallSeconds: (performance.now() - started) / 1000,
    hostLoad,
    test1,
    test2,
    sweep,
  };
}

async function main(): Promise<number> {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  let args: StudyArgs;
  try {
    args = parseStudyArgs(process.argv.slice(2), { timeScale: process.env.npm_config_time_scale });
  } catch (error) {
    console.error(`study: ${errorMessage(error)}`);
    return 2;
  }
  const result = args.fromJson
    ? (JSON.parse(readFileSync(args.fromJson, "utf8")) as StudyResult)
    : await runStudy(repoRoot, args);
  if (!result) return 2;
  mkdirSync(args.outDir, { recursive: true });
  const files = { queueDepthSvg: "queue-depth.svg", processingRateSvg: "processing-rate.svg" };
  const charts = renderCharts(result);
  writeFileSync(join(args.outDir, files.queueDepthSvg), charts.queueDepthSvg);
  writeFileSync(join(args.outDir, files.processingRateSvg), charts.processingRateSvg);
  writeFileSync(join(args.outDir, "study.md"), renderReport(result, files));
  writeFileSync(join(args.outDir, "study.json"), `${JSON.stringify(result, null, 1)}\n`);

  const results = checks(result);
  console.log(
    `\nWrote ${join(args.outDir, "study.md")} (+ ${files.queueDepthSvg}, ${files.processingRateSvg}, study.json)\n`,
  );
  for (const c of results) console.log(`  ${c.pass ? "pass" : "FAIL"}  ${c.name}: ${c.measured} (target ${c.target})`);
  return args.strict && results.some((c) => !c.pass) ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`study: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
