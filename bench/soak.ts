/**
 * `npm run soak`: 10 minutes (--minutes, at most 10) of steady async load on a local stack, with the
 * API's and each worker task's RSS, heap and event-loop delay sampled throughout and a growth verdict
 * from the least-squares trend after the warm-up. A benchmark, not a test: it prints a table and
 * exits 0 when every process is steady and every order accounted for, 1 otherwise.
 *
 *   npm run soak
 *   npm run soak -- --minutes 3 --rate 40 --json reports/soak.json
 */
import { resolve } from "node:path";
import { tempDir } from "@surge/testing";
import { benchArgs, reportRun } from "./lib/cli.js";
import { formatSoakReport, runSoak } from "./soak/run.js";

const USAGE = `npm run soak -- [options]

  --minutes N        length of the load, at most 10 (the burst bound)   [10]
  --rate N           orders per second                                  [40]
  --tasks N          worker tasks                                       [4]
  --concurrency N    orders one task holds at once                      [10]
  --payment-ms N     one payment's duration (4 × 5 slots ÷ 0.3 s = 66/s of capacity) [300]
  --interval N       seconds between samples                            [5]
  --warmup N         seconds left out of the trend                      [60, or a fifth of a shorter run]
  --postgres URL     PostgreSQL instead of the embedded SQLite
  --json FILE        write the report (with every sample) as JSON
  -h, --help`;

const { values, bounded } = benchArgs(USAGE, {
  minutes: { type: "string", default: "10" },
  rate: { type: "string", default: "40" },
  tasks: { type: "string", default: "4" },
  concurrency: { type: "string", default: "10" },
  "payment-ms": { type: "string", default: "300" },
  interval: { type: "string", default: "5" },
  warmup: { type: "string" },
  postgres: { type: "string" },
  json: { type: "string" },
});

const minutes = bounded("minutes", values.minutes, 0.25, 10);
const options = {
  repoRoot: resolve(import.meta.dirname, ".."),
  minutes,
  ratePerSecond: bounded("rate", values.rate, 1, 2000),
  workerTasks: bounded("tasks", values.tasks, 1, 50),
  workerConcurrency: bounded("concurrency", values.concurrency, 1, 200),
  paymentDurationMs: bounded("payment-ms", values["payment-ms"], 0, 60_000),
  sampleIntervalSeconds: bounded("interval", values.interval, 1, 60),
  warmupSeconds: values.warmup ? bounded("warmup", values.warmup, 0, 600) : Math.min(60, (minutes * 60) / 5),
  databaseUrl: values.postgres,
  log: (line: string) => console.log(line),
};
const temp = tempDir("surge-soak-");
await reportRun("soak", () => runSoak({ ...options, dataDir: temp.path }), {
  format: formatSoakReport,
  ok: (report) => report.steady,
  json: values.json,
});
temp.remove();
