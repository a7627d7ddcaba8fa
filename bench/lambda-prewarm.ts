/**
 * Lambda pre-warm (issue 16, item 4): the study's sale — 48 orders/s, 3 s payments — routed to
 * Surge's function on the local Lambda runtime, once with no provisioned concurrency and once with
 * 10 provisioned environments initialised ahead of the burst, in the same run. Orders arrive as
 * SNS delivers them (asynchronous invokes). For each: cold starts during the burst, init p95, the
 * invocations the provisioned environments took, and the time from an order's event to its
 * payment's end. Writes reports/lambda-prewarm.json.
 *
 *   node --import tsx bench/lambda-prewarm.ts                       # 48/s for 20 s, 0 vs 10
 *   node --import tsx bench/lambda-prewarm.ts --seconds 60          # the study's full 60 s
 *   node --import tsx bench/lambda-prewarm.ts --variants 0,10,150   # and enough for the whole sale
 *
 * Every environment is a Node process: a memory guard stops arrivals (and says so) under
 * --min-free-mb. Hold /tmp/bench.lock while it runs on a shared machine.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { newOrderId, SqliteOrderStore } from "@surge/core";
import { AsyncInvoker, durationStats, LocalLambdaFunction } from "@surge/lambda-runtime";
import { acceptOrderInStore, orderMessageBody } from "@surge/testing";
import { buildLocalLambda } from "./lib/local-lambda.js";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "48" },
    seconds: { type: "string", default: "20" },
    "payment-ms": { type: "string", default: "3000" },
    variants: { type: "string", default: "0,10" },
    "min-free-mb": { type: "string", default: "4000" },
    "out-dir": { type: "string" },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const paymentMs = Number(values["payment-ms"]);
const minFreeMb = Number(values["min-free-mb"]);
const variants = values.variants.split(",").map(Number);
if (!(rate >= 1 && rate <= 100)) throw new RangeError("--rate must be in 1..100 orders/s");
if (!(seconds >= 1 && seconds <= 60)) throw new RangeError("--seconds must be in 1..60");
if (!(paymentMs >= 0 && paymentMs <= 10_000)) throw new RangeError("--payment-ms must be in 0..10000");
if (!variants.every((v) => Number.isInteger(v) && v >= 0 && v <= 300)) {
  throw new RangeError("--variants must be integers in 0..300, comma-separated");
}
const RESERVED = 1000;

const repoRoot = resolve(import.meta.dirname, "..");
const outDir = resolve(values["out-dir"] ?? join(repoRoot, "reports"));
const { dir, bootstrapScript, surgeModule } = await buildLocalLambda("lambda-prewarm");

/** MemAvailable from /proc/meminfo, in MB. */
function availableMb(): number {
  const m = /MemAvailable:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"));
  return m ? Number(m[1]) / 1024 : Number.POSITIVE_INFINITY;
}

async function runVariant(provisioned: number) {
  const dataDir = join(dir, `data-${provisioned}`);
  const store = new SqliteOrderStore(join(dataDir, "surge.db"));
  // From before the function exists: it forks the provisioned environments as it is constructed.
  const provisionStarted = performance.now();
  const fn = new LocalLambdaFunction({
    functionName: "surge-orders",
    handlerModule: surgeModule,
    handlerName: "snsHandler",
    bootstrapScript,
    reservedConcurrency: RESERVED,
    provisionedConcurrency: provisioned,
    environment: { DATA_DIR: dataDir, PAYMENT_DURATION_MS: String(paymentMs), LOG_LEVEL: "warn" },
  });
  const invoker = new AsyncInvoker(fn);
  // As a sale window does: provisioned ahead of the start, the burst after they are ready.
  while (fn.provisionedCounts().ready < provisioned) {
    if (performance.now() - provisionStarted > 60_000) throw new Error(`${provisioned} environments not ready in 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const provisionSeconds = (performance.now() - provisionStarted) / 1000;
  const provisionInits = fn.environments().flatMap((e) => (e.initDurationMs === undefined ? [] : [e.initDurationMs]));
  await new Promise((r) => setTimeout(r, 2000)); // let the machine settle after the inits

  const orders = Math.round(rate * seconds);
  const latencies: number[] = [];
  const firstSecond: number[] = [];
  const outcomes = { success: 0, dead: 0 };
  const settled: Array<Promise<unknown>> = [];
  let stoppedByMemoryGuard = false;
  let peakEnvironments = 0;
  const sampler = setInterval(() => {
    peakEnvironments = Math.max(peakEnvironments, fn.environments().length);
  }, 200);
  const startedAtMs = Date.now();
  const started = performance.now();
  for (let i = 0; i < orders; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (availableMb() < minFreeMb) {
      stoppedByMemoryGuard = true;
      console.error(`[lambda-prewarm] memory guard: under ${minFreeMb} MB available, no arrivals after ${i}`);
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
    const sentAt = performance.now();
    settled.push(
      new Promise((done) =>
        invoker.enqueue({ id: String(i), payload, acceptedAtMs: Date.now() }, (outcome) => {
          outcomes[outcome.kind]++;
          const ms = performance.now() - sentAt;
          latencies.push(ms);
          if (sentAt - started < 1000) firstSecond.push(ms);
          done(outcome);
        }),
      ),
    );
  }
  const arrivalsSeconds = (performance.now() - started) / 1000;
  const finished = await Promise.race([
    Promise.all(settled).then(() => "done"),
    new Promise((r) => setTimeout(r, 180_000, "deadline")),
  ]);
  clearInterval(sampler);
  const reports = fn.reports(orders * 2).filter((r) => r.startedAtMs >= startedAtMs);
  const cold = reports.filter((r) => r.start === "cold");
  const init = durationStats(cold.flatMap((r) => (r.initDurationMs === undefined ? [] : [r.initDurationMs])));
  const result = {
    provisioned,
    provisionSeconds,
    provisionInitP95Ms: durationStats(provisionInits).p95,
    orders: settled.length,
    arrivalsSeconds,
    stoppedByMemoryGuard,
    finishedInTime: finished === "done",
    outcomes,
    coldStarts: cold.length,
    provisionedInvocations: reports.filter((r) => r.initializationType === "provisioned-concurrency").length,
    onDemandWarm: reports.filter((r) => r.start === "warm" && r.initializationType === "on-demand").length,
    initMs: { p50: init.p50, p95: init.p95, max: init.max },
    eventToPaidMs: durationStats(latencies),
    firstSecondEventToPaidMs: durationStats(firstSecond),
    peakEnvironments,
  };
  await invoker.close();
  await fn.close();
  await store.close();
  return result;
}

const results = [];
for (const provisioned of variants) {
  console.error(
    `[lambda-prewarm] ${rate} orders/s for ${seconds} s, ${paymentMs} ms payments, ${provisioned} provisioned`,
  );
  results.push(await runVariant(provisioned));
}
rmSync(dir, { recursive: true, force: true });
const summary = {
  generatedAt: `${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC`,
  host: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}`,
  loadAverage: loadavg()[0] ?? 0,
  spec: { rate, seconds, paymentMs, reservedConcurrency: RESERVED },
  results,
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "lambda-prewarm.json"), `${JSON.stringify(summary, null, 1)}\n`);

const base = results[0];
console.log(
  `| provisioned | orders | cold starts | on provisioned | init p50 / p95 ms | event→paid p50 / p95 ms | first second's p95 ms |`,
);
console.log(`| ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const r of results) {
  console.log(
    `| ${r.provisioned} | ${r.orders} | ${r.coldStarts}${base && r !== base ? ` (${(r.coldStarts / Math.max(1, base.coldStarts)).toFixed(2)}×)` : ""} | ${r.provisionedInvocations} | ${r.initMs.p50} / ${r.initMs.p95} | ${r.eventToPaidMs.p50} / ${r.eventToPaidMs.p95} | ${r.firstSecondEventToPaidMs.p95} |`,
  );
}
console.log(`load average ${summary.loadAverage.toFixed(1)}; wrote ${join(outDir, "lambda-prewarm.json")}`);
process.exit(results.every((r) => r.finishedInTime && r.outcomes.dead === 0) ? 0 : 1);
