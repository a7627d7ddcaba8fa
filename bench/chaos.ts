/**
 * `npm run chaos`: an async flash sale on a local stack (random loopback ports, a temporary data
 * dir) while worker tasks and the API are killed with SIGKILL, the emulator restarts empty and the
 * SNS publish path is stopped; then the order audit. Bounded: the sale lasts --seconds, the drain
 * at most --drain-seconds. Exit 0 when 0 orders were lost, 0 paid twice and every dead one explained.
 *
 *   npm run chaos                               # 120 s at 48 orders/s, 30 s publish outage
 *   npm run chaos -- --seconds 20 --rate 20 --publish-outage 5
 */
import { resolve } from "node:path";
import { tempDir } from "@surge/testing";
import { formatChaosReport, runChaos } from "./chaos/run.js";
import { benchArgs, reportRun } from "./lib/cli.js";

const USAGE = `npm run chaos -- [options]

  --seconds N          length of the flash sale                       [120]
  --rate N             orders per second (open loop)                  [48, the study's]
  --tasks N            worker tasks                                   [4]
  --concurrency N      orders one task holds at once                  [10]
  --payment-ms N       one payment's duration; 4 tasks × 5 slots ÷ 0.5 s = 40/s, under
                       the sale's 48/s, so a backlog builds as in the study [500]
  --failure-rate F     share of payments declined (retried, then dead) [0.25]
  --publish-outage N   seconds the SNS publish path is stopped        [30]
  --drain-seconds N    longest wait for every order to end after the sale [180]
  --seed N             picks the victims; the same seed, the same ones [1]
  --postgres URL       PostgreSQL instead of the embedded SQLite
  --data-dir DIR       keep the store and logs here                   [a temporary dir, removed]
  --json FILE          write the report as JSON
  -h, --help`;

const { values, bounded } = benchArgs(USAGE, {
  seconds: { type: "string", default: "120" },
  rate: { type: "string", default: "48" },
  tasks: { type: "string", default: "4" },
  concurrency: { type: "string", default: "10" },
  "payment-ms": { type: "string", default: "500" },
  "failure-rate": { type: "string", default: "0.25" },
  "publish-outage": { type: "string", default: "30" },
  "drain-seconds": { type: "string", default: "180" },
  seed: { type: "string", default: "1" },
  postgres: { type: "string" },
  "data-dir": { type: "string" },
  json: { type: "string" },
});

const options = {
  repoRoot: resolve(import.meta.dirname, ".."),
  durationSeconds: bounded("seconds", values.seconds, 5, 1800),
  ratePerSecond: bounded("rate", values.rate, 1, 2000),
  workerTasks: bounded("tasks", values.tasks, 1, 50),
  workerConcurrency: bounded("concurrency", values.concurrency, 1, 200),
  paymentDurationMs: bounded("payment-ms", values["payment-ms"], 0, 60_000),
  paymentFailureRate: bounded("failure-rate", values["failure-rate"], 0, 0.9),
  publishOutageSeconds: bounded("publish-outage", values["publish-outage"], 1, 3600),
  visibilityTimeoutSeconds: 5,
  maxReceiveCount: 5,
  republishAfterSeconds: 10,
  drainTimeoutSeconds: bounded("drain-seconds", values["drain-seconds"], 10, 3600),
  seed: bounded("seed", values.seed, 0, 2 ** 31),
  databaseUrl: values.postgres,
  log: (line: string) => console.log(line),
};
const temp = values["data-dir"] ? undefined : tempDir("surge-chaos-");
const dataDir = resolve(values["data-dir"] ?? temp?.path ?? "");
await reportRun("chaos", () => runChaos({ ...options, dataDir }), {
  format: (report) => `${formatChaosReport(report)}${temp ? "" : `\n\nstore and logs kept in ${dataDir}`}`,
  ok: (report) => report.passed,
  json: values.json,
});
temp?.remove();
