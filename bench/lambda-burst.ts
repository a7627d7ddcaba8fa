/**
 * Lambda under the study's full flash sale (issue 17, part 4): 2,888 orders in 60 s, each a 3 s
 * payment, delivered as SNS delivers them (asynchronous invokes, throttles retried) to Surge's
 * function on the local Lambda runtime. Counts cold and warm starts against the study's estimate of
 * 17–35% (flash-sale-report.txt:4891-4895). Writes reports/lambda-burst.md and .json.
 *
 *   npm run bench:lambda-burst                                   # 2,888 orders, 60 s, ~2 min
 *   npm run bench:lambda-burst -- --orders 960 --seconds 60      # a third of the rate
 *
 * Every environment is a Node process; a memory guard stops new arrivals (and says so) when the
 * host's available memory falls under --min-free-mb.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { newOrderId, SqliteOrderStore } from "@surge/core";
import { AsyncInvoker, durationStats, LocalLambdaFunction } from "@surge/lambda-runtime";
import { acceptOrderInStore, orderMessageBody } from "@surge/testing";
import { buildLocalLambda } from "./lib/local-lambda.js";
import { lambdaBurstTheory, renderLambdaBurst } from "./study/lambda-burst.js";

const { values } = parseArgs({
  options: {
    orders: { type: "string", default: "2888" },
    seconds: { type: "string", default: "60" },
    "payment-ms": { type: "string", default: "3000" },
    "reserved-concurrency": { type: "string", default: "1000" },
    "min-free-mb": { type: "string", default: "4000" },
    "out-dir": { type: "string" },
  },
});
const orders = Number(values.orders);
const seconds = Number(values.seconds);
const paymentMs = Number(values["payment-ms"]);
const reservedConcurrency = Number(values["reserved-concurrency"]);
const minFreeMb = Number(values["min-free-mb"]);
if (!(orders >= 1 && orders <= 5000)) throw new RangeError("--orders must be in 1..5000");
if (!(seconds >= 1 && seconds <= 120)) throw new RangeError("--seconds must be in 1..120");
if (!(paymentMs >= 0 && paymentMs <= 10_000)) throw new RangeError("--payment-ms must be in 0..10000");
if (!(reservedConcurrency >= 1 && reservedConcurrency <= 1000))
  throw new RangeError("--reserved-concurrency must be in 1..1000");

const repoRoot = resolve(import.meta.dirname, "..");
const outDir = resolve(values["out-dir"] ?? join(repoRoot, "reports"));
const { dir, bootstrapScript, surgeModule } = await buildLocalLambda("lambda-burst");

const dataDir = join(dir, "data");
const store = new SqliteOrderStore(join(dataDir, "surge.db"));
const fn = new LocalLambdaFunction({
  functionName: "surge-orders",
  handlerModule: surgeModule,
  handlerName: "snsHandler",
  bootstrapScript,
  reservedConcurrency,
  environment: { DATA_DIR: dataDir, PAYMENT_DURATION_MS: String(paymentMs), LOG_LEVEL: "warn" },
});
const invoker = new AsyncInvoker(fn);

/** MemAvailable from /proc/meminfo, in MB (what the kernel can hand out without swapping). */
function availableMb(): number {
  const m = /MemAvailable:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"));
  return m ? Number(m[1]) / 1024 : Number.POSITIVE_INFINITY;
}

let peakEnvironments = 0;
let peakBusy = 0;
let lowestAvailableMb = availableMb();
const sampler = setInterval(() => {
  const envs = fn.environments();
  peakEnvironments = Math.max(peakEnvironments, envs.length);
  peakBusy = Math.max(peakBusy, fn.concurrentExecutions);
  lowestAvailableMb = Math.min(lowestAvailableMb, availableMb());
}, 200);

const started = performance.now();
let sent = 0;
let stoppedByMemoryGuard = false;
const settled: Array<Promise<unknown>> = [];
const outcomes = { success: 0, dead: 0 };
console.error(`[lambda-burst] ${orders} orders over ${seconds} s, ${paymentMs} ms payments`);
for (let i = 0; i < orders; i++) {
  const due = started + (i * seconds * 1000) / orders;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  if (availableMb() < minFreeMb) {
    stoppedByMemoryGuard = true;
    console.error(`[lambda-burst] memory guard: under ${minFreeMb} MB available, no more arrivals after ${sent}`);
    break;
  }
  const payload = {
    Records: [
      {
        EventSource: "aws:sns",
        Sns: { MessageId: newOrderId(), Message: orderMessageBody(await acceptOrderInStore(store)) },
      },
    ],
  };
  sent++;
  settled.push(
    new Promise((done) =>
      invoker.enqueue({ id: String(i), payload, acceptedAtMs: Date.now() }, (outcome) => {
        outcomes[outcome.kind]++;
        done(outcome);
      }),
    ),
  );
}
const arrivalsSeconds = (performance.now() - started) / 1000;
const deadline = new Promise((r) => setTimeout(r, 180_000, "deadline"));
const finished = await Promise.race([Promise.all(settled).then(() => "done"), deadline]);
clearInterval(sampler);
const reports = fn.reports(orders * 2);
const inits = reports.flatMap((r) => (r.start === "cold" && r.initDurationMs !== undefined ? [r.initDurationMs] : []));
const initStats = durationStats(inits);
const result = {
  generatedAt: `${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC`,
  host: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}, ${process.platform}`,
  loadAverage: loadavg()[0] ?? 0,
  wallSeconds: (performance.now() - started) / 1000,
  spec: { orders, seconds, paymentMs, reservedConcurrency },
  sent,
  arrivalsSeconds,
  stoppedByMemoryGuard,
  finishedInTime: finished === "done",
  outcomes,
  totals: { ...fn.totals },
  peakEnvironments,
  peakBusy,
  lowestAvailableMb,
  initMs: { p50: initStats.p50, p95: initStats.p95, max: initStats.max, count: initStats.count },
  theory: lambdaBurstTheory({ orders: sent, seconds: arrivalsSeconds, paymentMs, initMs: initStats.p50 }),
};
await invoker.close();
await fn.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "lambda-burst.json"), `${JSON.stringify(result, null, 1)}\n`);
writeFileSync(join(outDir, "lambda-burst.md"), renderLambdaBurst(result));
console.log(
  `${result.totals.cold} cold, ${result.totals.warm} warm (${((result.totals.cold / Math.max(1, result.totals.cold + result.totals.warm)) * 100).toFixed(1)}% cold), ` +
    `${result.totals.throttles} throttles, peak ${peakEnvironments} environments; wrote ${join(outDir, "lambda-burst.md")}`,
);
process.exit(result.finishedInTime ? 0 : 1);
