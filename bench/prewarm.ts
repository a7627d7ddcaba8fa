/**
 * Pre-warmed vs reactive (issue 16): the study's sale twice in the same run, each on a fresh stack.
 * Reactive is today's autoscaler alone, from one task; pre-warmed adds a sale window
 * (POST /ops/schedules) that opens `--lead-seconds` before the burst with the capacity planner's
 * minimum. Targets for pre-warmed: the oldest waiting order ≤ 5 s, accept p99 during the burst
 * ≤ 50 ms, no worker process started during the burst, the last order paid ≤ 5 s after it
 * (docs/benchmarks.md#pre-warmed-vs-reactive). Exit code 0 when they are met, 1 when not.
 *
 *   node --import tsx bench/prewarm.ts [the flags of bench/flash-sale-autoscale.ts]
 *        [--lead-seconds 60] [--min-tasks N (default: the planner's)] [--only prewarmed|reactive]
 */
import { parseArgs } from "node:util";
import { flashSaleArgs, flashSaleOptions } from "./flash-sale-autoscale.js";
import { type FlashSaleResult, percentile, plannerMinimum, printTimeline, runFlashSale } from "./lib/flash-sale.js";
import { buildBundles } from "./lib/stack.js";

const { values } = parseArgs({
  options: {
    ...flashSaleArgs,
    "lead-seconds": { type: "string", default: "60" },
    "min-tasks": { type: "string" },
    only: { type: "string" },
  },
});
const options = flashSaleOptions(values);

const minTasks = values["min-tasks"]
  ? Number(values["min-tasks"])
  : plannerMinimum(options.rate, options.slots, options.slots, options.paymentMs);
const leadSeconds = Number(values["lead-seconds"]);

buildBundles();
console.log(
  `pre-warmed vs reactive: ${options.rate} orders/s for ${options.durationSeconds} s, payments ${options.paymentMs} ms × ${options.slots} slots, ` +
    `autoscaling 1..${options.maxTasks} tasks, target ${options.targetBacklogPerTask}/task; ` +
    `pre-warmed: a sale window of ${minTasks} tasks from ${leadSeconds} s before the burst\n`,
);

const runs: Array<{ name: string; result: FlashSaleResult }> = [];
if (values.only !== "prewarmed") {
  const result = await runFlashSale({ ...options, label: "reactive" });
  console.log("\n## reactive");
  printTimeline(result);
  runs.push({ name: "reactive", result });
}
if (values.only !== "reactive") {
  const result = await runFlashSale({ ...options, label: "pre-warmed", prewarm: { leadSeconds, minTasks } });
  console.log("\n## pre-warmed");
  printTimeline(result);
  runs.push({ name: "pre-warmed", result });
}

const rows: Array<[string, (r: FlashSaleResult) => string, string]> = [
  ["orders accepted / refused", (r) => `${r.accepted} / ${r.refused}`, "all / 0"],
  ["tasks running at the burst's start", (r) => String(r.runningAtBurstStart), `${minTasks}`],
  ["oldest waiting order, worst", (r) => `${r.maxOldestAgeSeconds.toFixed(1)} s`, "≤ 5 s"],
  [
    "accept latency p50 / p99 during the burst",
    (r) => `${percentile(r.acceptMs, 50).toFixed(1)} / ${percentile(r.acceptMs, 99).toFixed(1)} ms`,
    "p99 ≤ 50 ms",
  ],
  ["worker processes started during the burst", (r) => String(r.workerStartsDuringBurst), "0"],
  ["worker processes started before the burst (after the first)", (r) => String(r.workerStartsBeforeBurst), ""],
  ["last order paid after the burst ended", (r) => `${r.lastPaidAfterBurstSeconds.toFixed(1)} s`, "≤ 5 s"],
  ["peak running tasks", (r) => String(r.peakRunning), `≤ ${options.maxTasks}`],
  ["paid / paid twice / in progress", (r) => `${r.paid} / ${r.paidTwice} / ${r.inProgress}`, "all / 0 / 0"],
  ["one task's measured rate (same run)", (r) => `${r.oneTaskRate?.toFixed(3) ?? "n/a"} orders/s`, ""],
];
console.log("\nResult:\n");
console.log(`| figure | ${runs.map((r) => r.name).join(" | ")} | target (pre-warmed) |`);
console.log(`|---|${runs.map(() => "---:|").join("")}---|`);
for (const [figure, value, target] of rows)
  console.log(`| ${figure} | ${runs.map((r) => value(r.result)).join(" | ")} | ${target} |`);

const pre = runs.find((r) => r.name === "pre-warmed")?.result;
if (pre) {
  const met =
    pre.maxOldestAgeSeconds <= 5 &&
    percentile(pre.acceptMs, 99) <= 50 &&
    pre.workerStartsDuringBurst === 0 &&
    pre.lastPaidAfterBurstSeconds <= 5 &&
    pre.refused === 0 &&
    pre.paid === pre.accepted &&
    pre.paidTwice === 0;
  console.log(`\npre-warmed targets ${met ? "met" : "NOT met"}`);
  process.exitCode = met ? 0 : 1;
}
