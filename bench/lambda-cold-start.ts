/**
 * Lambda cold-start benchmark: Init Duration of the Surge function against an empty handler on the
 * same runtime, samples alternating so machine load hits both alike (docs/benchmarks.md).
 *
 *   node --import tsx bench/lambda-cold-start.ts [--samples 40] [--burst 5] [--study] [--postgres URL]
 *
 * --postgres URL runs Surge's function on PostgreSQL (its "surge" schema, as deployed) instead of
 * SQLite: use a scratch database.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { newOrderId, type OrderStore, PostgresOrderStore, SqliteOrderStore } from "@surge/core";
import { AsyncInvoker, durationStats, LocalLambdaFunction } from "@surge/lambda-runtime";
import { acceptOrderInStore, orderMessageBody } from "@surge/testing";
import { buildLambdaBundle } from "@surge/worker/lambda-build";
import { build } from "esbuild";

const { values } = parseArgs({
  options: {
    samples: { type: "string", default: "40" },
    burst: { type: "string", default: "5" },
    study: { type: "boolean", default: false },
    postgres: { type: "string" },
  },
});
const samples = Math.max(5, Number(values.samples));
const burst = Math.max(1, Number(values.burst));

const repoRoot = resolve(import.meta.dirname, "..");
// Under node_modules so the function's native dependency resolves as it does from worker/dist.
const cache = join(repoRoot, "node_modules/.cache");
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, "surge-lambda-bench-"));
const banner = { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" };
const bundle = (entry: string, outfile: string) =>
  build({
    entryPoints: [join(repoRoot, entry)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "warning",
    external: ["better-sqlite3", "pg-native"],
    banner,
  });
// From the current source, as `npm run build` bundles them.
const bootstrapScript = join(dir, "lambda-bootstrap.js");
const surgeModule = join(dir, "lambda.js");
await Promise.all([bundle("infra/lambda-runtime/src/bootstrap.ts", bootstrapScript), buildLambdaBundle(surgeModule)]);
const floorModule = join(dir, "floor.mjs");
writeFileSync(floorModule, "export const handler = async () => ({});\n");

const dataDir = join(dir, "data");
// The function's own schema ("surge", what index.ts opens), so the orders accepted here are the ones it pays.
const store: OrderStore = values.postgres
  ? new PostgresOrderStore(values.postgres)
  : new SqliteOrderStore(join(dataDir, "surge.db"));
const storeName = values.postgres ? "PostgreSQL" : "SQLite";
const environment: Record<string, string> = {
  DATA_DIR: dataDir,
  PAYMENT_DURATION_MS: "0",
  LOG_LEVEL: "warn",
  ...(values.postgres && { DATABASE_URL: values.postgres }),
};

interface Sample {
  initMs: number;
  /** The cold start's own invocation (Duration on its REPORT line): the first order, after init. */
  firstMs: number;
  nodeStartMs: number;
  handlerLoadMs: number;
  warmMs?: number;
}

const fnFor = (module: string, handlerName: string, reservedConcurrency = 1, env = environment) =>
  new LocalLambdaFunction({
    functionName: "bench",
    handlerModule: module,
    handlerName,
    bootstrapScript,
    reservedConcurrency,
    environment: env,
  });

async function acceptOrderEvent() {
  const message = orderMessageBody(await acceptOrderInStore(store));
  return { Records: [{ EventSource: "aws:sns", Sns: { MessageId: newOrderId(), Message: message } }] };
}

/** One cold start (and, for Surge, one warm order after it) in a fresh function. */
async function coldStart(kind: "floor" | "surge"): Promise<Sample> {
  const fn = kind === "floor" ? fnFor(floorModule, "handler") : fnFor(surgeModule, "snsHandler");
  try {
    const cold = await fn.invoke(kind === "floor" ? {} : await acceptOrderEvent());
    if (!cold.ok) throw new Error(`${kind} cold invocation failed: ${cold.errorType}: ${cold.errorMessage}`);
    const env = fn.environments()[0];
    const sample: Sample = {
      initMs: cold.report.initDurationMs ?? Number.NaN,
      firstMs: cold.report.durationMs,
      nodeStartMs: env?.initPhases?.nodeStartMs ?? Number.NaN,
      handlerLoadMs: env?.initPhases?.handlerLoadMs ?? Number.NaN,
    };
    if (kind === "surge") {
      const warm = await fn.invoke(await acceptOrderEvent());
      if (warm.report.start !== "warm" || !warm.ok) throw new Error("the second invocation was not warm");
      sample.warmMs = warm.report.durationMs;
    }
    return sample;
  } finally {
    await fn.close();
  }
}

// One of each first, unmeasured: the OS page cache and the store file are warm for both series alike.
await coldStart("floor");
await coldStart("surge");
const floor: Sample[] = [];
const surge: Sample[] = [];
for (let i = 0; i < samples; i++) {
  floor.push(await coldStart("floor"));
  surge.push(await coldStart("surge"));
}

// The study's shape: `burst` environments starting at once.
const burstFn = fnFor(surgeModule, "snsHandler", burst);
const burstResults = await Promise.all(
  await Promise.all(Array.from({ length: burst }, async () => burstFn.invoke(await acceptOrderEvent()))),
);
await burstFn.close();
const burstInit = burstResults.map((r) => r.report.initDurationMs ?? Number.NaN);

const stats = (xs: number[]) => durationStats(xs.filter(Number.isFinite));
const f = (n: number) => n.toFixed(1);
const row = (name: string, s: ReturnType<typeof stats>, phases?: { node: number; load: number }) =>
  `| ${name} | ${s.count} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.min)} | ${f(s.max)} | ${phases ? `${f(phases.node)} / ${f(phases.load)}` : "—"} |`;
const floorInit = stats(floor.map((s) => s.initMs));
const surgeInit = stats(surge.map((s) => s.initMs));
const median = (xs: number[]) => stats(xs).p50;

console.log(
  `\nLambda cold starts, ${samples} sequential samples each (alternating), ${availableParallelism()} CPU(s) (${cpus()[0]?.model ?? "?"}), load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at the end, Node ${process.version}, ${new Date().toISOString()}`,
);
console.log(
  `handler bundle: ${(statSync(surgeModule).size / 1024).toFixed(0)} KiB (worker/src/lambda, as npm run build bundles it)\n`,
);
console.log("| Init Duration (ms) | n | p50 | p95 | p99 | min | max | Node start / handler load p50 |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
console.log(
  row("floor: empty handler, same runtime", floorInit, {
    node: median(floor.map((s) => s.nodeStartMs)),
    load: median(floor.map((s) => s.handlerLoadMs)),
  }),
);
console.log(
  row(`Surge order function (${storeName})`, surgeInit, {
    node: median(surge.map((s) => s.nodeStartMs)),
    load: median(surge.map((s) => s.handlerLoadMs)),
  }),
);
console.log(row(`Surge, ${burst} environments at once`, stats(burstInit)));
console.log("| the study's Go function (5 cold starts) | 5 | 58.41 | 65.87 | 65.87 | 57.41 | 65.87 | — |");
const floorFirst = stats(floor.map((s) => s.firstMs));
const surgeFirst = stats(surge.map((s) => s.firstMs));
console.log("\n| First invocation, after init (ms) | n | p50 | p95 | p99 | min | max |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
const firstRow = (name: string, s: ReturnType<typeof stats>) =>
  `| ${name} | ${s.count} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.min)} | ${f(s.max)} |`;
console.log(firstRow("floor: empty handler", floorFirst));
console.log(firstRow(`Surge: one order, 0 ms payment, ${storeName}`, surgeFirst));
// Surge's own share: what the function adds to the runtime's floor, both from this run.
const share = surgeInit.p50 - floorInit.p50;
const loadShare = median(surge.map((s) => s.handlerLoadMs)) - median(floor.map((s) => s.handlerLoadMs));
console.log(
  `\nSurge's own share of init = Surge p50 − floor p50 = ${f(surgeInit.p50)} − ${f(floorInit.p50)} = ${f(share)} ms (target ≤ 15 ms): ${share <= 15 ? "met" : "NOT met"}`,
);
console.log(
  `  of which handler load (import of the function module): +${f(loadShare)} ms; Surge / floor at p50 = ${(surgeInit.p50 / floorInit.p50).toFixed(2)}×`,
);
console.log(
  `first invocation: Surge p50 ${f(surgeFirst.p50)} ms against the floor's ${f(floorFirst.p50)} ms (+${f(surgeFirst.p50 - floorFirst.p50)} ms)`,
);
const warm = stats(surge.flatMap((s) => (s.warmMs === undefined ? [] : [s.warmMs])));
console.log(
  `warm invocation with a 0 ms payment (claim, charge, mark paid on ${storeName}): p50 ${f(warm.p50)} ms, p95 ${f(warm.p95)} ms; the first invocation costs +${f(surgeFirst.p50 - warm.p50)} ms over a warm one`,
);

if (values.study) {
  // The study's test: ten orders at once, 3 s payments, five environments at most.
  const fn = fnFor(surgeModule, "snsHandler", 5, { ...environment, PAYMENT_DURATION_MS: "3000" });
  const invoker = new AsyncInvoker(fn);
  const events = await Promise.all(Array.from({ length: 10 }, () => acceptOrderEvent()));
  await Promise.all(
    events.map(
      (payload, i) =>
        new Promise((done) => invoker.enqueue({ id: String(i), payload, acceptedAtMs: Date.now() }, done)),
    ),
  );
  const reports = fn.reports(10).reverse();
  console.log(
    `\nThe study's test replayed: 10 orders at once, 3 s payments, reserved concurrency 5 — ${fn.totals.cold} cold, ${fn.totals.warm} warm, ${fn.totals.throttles} throttles retried:\n`,
  );
  for (const r of reports) console.log(r.line);
  await invoker.close();
  await fn.close();
}

await store.close();
rmSync(dir, { recursive: true, force: true });
