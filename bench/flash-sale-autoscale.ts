/**
 * The study's flash sale with autoscaling on (issue 3): 48 orders/s for 60 s, open loop, into a
 * one-task fleet the autoscaler may grow to 40. Targets: no waiting order older than 30 s, the last
 * paid ≤ 60 s after the burst (docs/benchmarks.md#the-studys-flash-sale-with-autoscaling).
 *
 *   node --import tsx bench/flash-sale-autoscale.ts [--rate 48] [--duration-seconds 60] [--max-tasks 40]
 *        [--payment-ms 3000] [--slots 5] [--target 10] [--scale-out-cooldown 5] [--scale-in-cooldown 60]
 *        [--drain-timeout-seconds 600]
 *
 * Baseline from the same run: the first task's rate (payments ledger), and the time it alone would take.
 * The run itself is bench/lib/flash-sale.ts, shared with bench/prewarm.ts.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type FlashSaleOptions, percentile, printTimeline, runFlashSale } from "./lib/flash-sale.js";
import { buildBundles } from "./lib/stack.js";

/** The study's sale and today's policy; bench/prewarm.ts takes the same flags. */
export const flashSaleArgs = {
  rate: { type: "string", default: "48" },
  "duration-seconds": { type: "string", default: "60" },
  "max-tasks": { type: "string", default: "40" },
  "payment-ms": { type: "string", default: "3000" },
  slots: { type: "string", default: "5" },
  target: { type: "string", default: "10" },
  "scale-out-cooldown": { type: "string", default: "5" },
  "scale-in-cooldown": { type: "string", default: "60" },
  "drain-timeout-seconds": { type: "string", default: "600" },
} as const;

export function flashSaleOptions(values: Record<keyof typeof flashSaleArgs, string>): FlashSaleOptions {
  return {
    rate: Number(values.rate),
    durationSeconds: Number(values["duration-seconds"]),
    maxTasks: Number(values["max-tasks"]),
    paymentMs: Number(values["payment-ms"]),
    slots: Number(values.slots),
    targetBacklogPerTask: Number(values.target),
    scaleOutCooldownSeconds: Number(values["scale-out-cooldown"]),
    scaleInCooldownSeconds: Number(values["scale-in-cooldown"]),
    drainTimeoutSeconds: Number(values["drain-timeout-seconds"]),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({ options: flashSaleArgs });
  const options = flashSaleOptions(values);
  buildBundles();
  console.log(
    `flash sale: ${options.rate} orders/s for ${options.durationSeconds} s, payments ${options.paymentMs} ms × ${options.slots} slots, ` +
      `autoscaling 1..${options.maxTasks} tasks, target ${options.targetBacklogPerTask}/task\n`,
  );
  const r = await runFlashSale(options);
  printTimeline(r);
  const oneTaskMinutes = r.oneTaskRate ? r.accepted / r.oneTaskRate / 60 : Number.NaN;
  console.log("\nResult:\n");
  console.log("| figure | value | target |");
  console.log("|---|---:|---:|");
  console.log(`| orders accepted / refused | ${r.accepted} / ${r.refused} | all accepted |`);
  console.log(
    `| accept latency p50 / p99 | ${percentile(r.acceptMs, 50).toFixed(1)} / ${percentile(r.acceptMs, 99).toFixed(1)} ms | |`,
  );
  console.log(`| oldest waiting order, worst over the run | ${r.maxOldestAgeSeconds.toFixed(1)} s | ≤ 30 s |`);
  console.log(`| last order paid after the burst ended | ${r.lastPaidAfterBurstSeconds.toFixed(1)} s | ≤ 60 s |`);
  console.log(`| peak running tasks | ${r.peakRunning} | ≤ ${options.maxTasks} |`);
  console.log(
    `| orders paid / paid twice / in progress | ${r.paid} / ${r.paidTwice} / ${r.inProgress} | all / 0 / 0 |`,
  );
  console.log(
    `| baseline: one task's measured rate (same run) | ${r.oneTaskRate?.toFixed(3) ?? "n/a"} orders/s | ${(options.slots / (options.paymentMs / 1000)).toFixed(3)} in theory |`,
  );
  console.log(`| one task alone would pay the burst in | ${oneTaskMinutes.toFixed(1)} min | study: 27–48 min |`);
  console.log(
    `| autoscaled: burst start to last payment | ${r.burstStartToLastPaidMinutes.toFixed(2)} min (${(oneTaskMinutes / r.burstStartToLastPaidMinutes).toFixed(1)}× faster) | |`,
  );
  const met =
    r.maxOldestAgeSeconds <= 30 && r.lastPaidAfterBurstSeconds <= 60 && r.paid === r.accepted && r.paidTwice === 0;
  console.log(`\ntargets ${met ? "met" : "NOT met"}`);
}
