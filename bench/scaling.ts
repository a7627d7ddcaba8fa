/**
 * Scaling linearity (issue 3): 1–16 local worker tasks against tasks × slots ÷ payment duration, and
 * the N-task rate against N × the 1-task rate of the same run (docs/benchmarks.md#scaling-linearity).
 *
 *   node --import tsx bench/scaling.ts [--tasks 1,2,4,8,16] [--payment-ms 3000] [--slots 5] [--waves 8]
 *
 * A task's sustained rate counts full waves of `slots` payments only (slots × (full waves − 1) ÷ first
 * to last full wave), so neither start-up stagger nor a partial last wave distorts it.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { postOrders, startFleetStack } from "./lib/fleet-stack.js";
import { buildBundles } from "./lib/stack.js";

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "1,2,4,8,16" },
    "payment-ms": { type: "string", default: "3000" },
    slots: { type: "string", default: "5" },
    waves: { type: "string", default: "8" },
  },
});
const taskCounts = values.tasks.split(",").map(Number);
const paymentMs = Number(values["payment-ms"]);
const slots = Number(values.slots);
const waves = Number(values.waves);

/**
 * Worker long-poll wait, waited out after each scale to 0: the emulator keeps a stopped task's aborted
 * poll waiting until then, and a message sent to it would stay invisible into the next round.
 */
const waitTimeSeconds = 5;
buildBundles();
const bench = await startFleetStack({
  paymentMs,
  slots,
  concurrency: slots,
  workerTasks: 0,
  maxWorkerTasks: Math.max(...taskCounts),
  env: { WAIT_TIME_SECONDS: String(waitTimeSeconds) },
});
const ledger = new Database(join(bench.dataDir, "surge.db"), { readonly: true, fileMustExist: true });
const chargesSince = ledger.prepare<[number], { processor_id: string; created_at: number }>(
  "SELECT processor_id, created_at FROM payments WHERE created_at >= ? ORDER BY created_at",
);

interface Row {
  tasks: number;
  orders: number;
  theory: number;
  sustained: number;
  wall: number;
  drainSeconds: number;
}

/** Sustained rate of one task: full waves of `slots` charges, grouped by the gaps between them. */
function taskRate(times: number[]): number | undefined {
  const wavesOf: number[][] = [];
  for (const t of times) {
    const last = wavesOf.at(-1);
    if (last && t - (last.at(-1) ?? t) < paymentMs / 2) last.push(t);
    else wavesOf.push([t]);
  }
  const full = wavesOf.filter((w) => w.length === slots);
  const first = full[0]?.at(-1);
  const last = full.at(-1)?.at(-1);
  if (full.length < 2 || first === undefined || last === undefined || last === first) return undefined;
  return (slots * (full.length - 1)) / ((last - first) / 1000);
}

async function round(tasks: number): Promise<Row> {
  await bench.ops("PUT", "/fleet", { desiredCount: 0 });
  while ((await bench.ops<{ tasks: unknown[] }>("GET", "/fleet")).tasks.length > 0) await sleep(200);
  await sleep((waitTimeSeconds + 1) * 1000);
  const orders = tasks * slots * (waves + 1);
  const paidBefore = (await bench.store.countByStatus()).paid;
  await postOrders(bench.url, orders);
  while ((await bench.store.outboxStats()).pending > 0) await sleep(100);

  const startedAt = Date.now();
  await bench.ops("PUT", "/fleet", { desiredCount: tasks });
  while ((await bench.store.countByStatus()).paid < paidBefore + orders) await sleep(250);

  const charges = chargesSince.all(startedAt);
  const byTask = new Map<string, number[]>();
  for (const c of charges) byTask.set(c.processor_id, [...(byTask.get(c.processor_id) ?? []), c.created_at]);
  const rates = [...byTask.values()].map(taskRate);
  if (rates.some((r) => r === undefined) || byTask.size !== tasks) {
    throw new Error(`${tasks} task(s): expected ${tasks} tasks each with ≥ 2 full waves, got ${byTask.size}`);
  }
  const lastCharge = charges.at(-1)?.created_at ?? startedAt;
  return {
    tasks,
    orders,
    theory: (tasks * slots) / (paymentMs / 1000),
    sustained: rates.reduce<number>((a, b) => a + (b ?? 0), 0),
    // End to end: from the scale-out request to the last payment, task start-up and tail included.
    wall: orders / Math.max(0.001, (lastCharge - startedAt) / 1000),
    drainSeconds: (lastCharge - startedAt) / 1000,
  };
}

const rows: Row[] = [];
try {
  console.log(`scaling: payment ${paymentMs} ms, ${slots} slots, concurrency ${slots}, ${waves + 1} waves per task\n`);
  for (const tasks of taskCounts) {
    const row = await round(tasks);
    rows.push(row);
    console.log(`  ${tasks} task(s): ${row.sustained.toFixed(2)} orders/s sustained (theory ${row.theory.toFixed(2)})`);
  }
} finally {
  ledger.close();
  await bench.close();
}

const base = rows.find((r) => r.tasks === 1);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(
  "\n| tasks | orders | theory orders/s | sustained orders/s | vs theory | vs N × 1-task | end-to-end orders/s | all paid after |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  const linear = base ? pct(r.sustained / (r.tasks * base.sustained)) : "n/a";
  console.log(
    `| ${r.tasks} | ${r.orders} | ${r.theory.toFixed(2)} | ${r.sustained.toFixed(2)} | ${pct(r.sustained / r.theory)} | ${linear} | ${r.wall.toFixed(2)} | ${r.drainSeconds.toFixed(1)} s |`,
  );
}
const worst = Math.min(...rows.map((r) => r.sustained / r.theory));
console.log(`\nworst ratio to theory: ${pct(worst)} (target ≥ 97%) — ${worst >= 0.97 ? "met" : "NOT met"}`);
console.log(`baseline (1 task, same run): ${base ? `${base.sustained.toFixed(3)} orders/s` : "not measured"}`);
