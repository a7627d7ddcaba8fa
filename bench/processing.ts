/**
 * Processing benchmark: orders/s with a standing backlog for tasks × concurrency, against the theory
 * tasks × min(concurrency, slots) ÷ payment duration (docs/benchmarks.md).
 *
 *   node --import tsx bench/processing.ts [--payment-ms 3000] [--window 10] [--tasks 1,2,4,8] [--concurrency 1,5,20,100]
 */

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { TaskSupervisor } from "@surge/local/supervisor";
import { createTestTopology, enqueueOrders, tempSqliteStore, workerEnv } from "@surge/testing";
import { startEmulatorProcess } from "./lib/emulator-process.js";

const { values } = parseArgs({
  options: {
    "payment-ms": { type: "string", default: "3000" },
    slots: { type: "string", default: "5" },
    window: { type: "string", default: "10" },
    tasks: { type: "string", default: "1,2,4,8" },
    concurrency: { type: "string", default: "1,5,20,100" },
  },
});
const paymentMs = Number(values["payment-ms"]);
const slots = Number(values.slots);
const windowSeconds = Number(values.window);
const taskCounts = values.tasks.split(",").map(Number);
const concurrencies = values.concurrency.split(",").map(Number);
const workerBundle = resolve(import.meta.dirname, "../worker/dist/main.js");
if (!existsSync(workerBundle)) throw new Error("worker/dist/main.js is missing: run `npx turbo run build` first");

const emulator = await startEmulatorProcess();

async function measure(tasks: number, concurrency: number) {
  const theory = (tasks * Math.min(concurrency, slots)) / (paymentMs / 1000);
  const t = tempSqliteStore();
  const topology = await createTestTopology(emulator);
  // A backlog deeper than the run can drain: the workers never wait for work.
  const warmupSeconds = 3;
  const backlog = Math.ceil(theory * (warmupSeconds + windowSeconds) * 1.5) + tasks * concurrency + 20;
  await enqueueOrders(t.store, emulator, topology.queueUrl, backlog);
  const supervisor = new TaskSupervisor({
    script: workerBundle,
    env: workerEnv(emulator, topology, t.dataDir, {
      PAYMENT_DURATION_MS: String(paymentMs),
      PAYMENT_SLOTS: String(slots),
    }),
    desiredCount: tasks,
    concurrency,
    logDir: join(t.dataDir, "logs"),
  });
  supervisor.start();
  const paid = async () => (await t.store.countByStatus()).paid;
  while (supervisor.snapshot().running < tasks) await sleep(50);
  while ((await paid()) === 0) await sleep(5);
  await sleep(warmupSeconds * 1000);
  // Rate between two order completions, found by polling: (b − a) orders over the time
  // from the a-th to the b-th completion after warm-up. Payments finish in waves, so
  // counting over a fixed clock window would round to whole waves and hide the gaps.
  const wave = tasks * Math.min(concurrency, slots);
  const cycles = Math.max(2, Math.round((windowSeconds * 1000) / paymentMs));
  const c0 = await paid();
  const crossing = async (count: number) => {
    while ((await paid()) < count) await sleep(2);
    return performance.now();
  };
  const ta = await crossing(c0 + wave);
  const tb = await crossing(c0 + wave * cycles);
  const measured = (wave * (cycles - 1)) / ((tb - ta) / 1000);
  const r = await t.store.reconcile();
  await supervisor.close();
  await t.remove();
  return { tasks, concurrency, theory, measured, ratio: measured / theory, paidTwice: r.paidTwice };
}

console.log(
  `\nProcessing rate with a standing backlog: payment ${paymentMs} ms, ${slots} slots per task, ${windowSeconds} s window after ${3} s warm-up\n`,
);
console.log("| tasks | concurrency | theory orders/s | measured orders/s | measured ÷ theory | paid twice |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
let worst = Number.POSITIVE_INFINITY;
for (const tasks of taskCounts) {
  for (const concurrency of concurrencies) {
    const r = await measure(tasks, concurrency);
    worst = Math.min(worst, r.ratio);
    console.log(
      `| ${r.tasks} | ${r.concurrency} | ${r.theory.toFixed(2)} | ${r.measured.toFixed(2)} | ${(r.ratio * 100).toFixed(1)}% | ${r.paidTwice} |`,
    );
  }
}
console.log(`\nworst measured ÷ theory: ${(worst * 100).toFixed(1)}% (target ≥ 98%)`);
await emulator.stop();
