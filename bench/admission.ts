/**
 * Overload with admission control (issue 16): three times the fleet's capacity for 60 s, open loop,
 * with a 30 s wait limit (PUT /ops/intake), and the same overload with intake open as the baseline,
 * in the same run on the same stack. Targets: no accepted order waits more than the limit plus the
 * payment; every refusal a 429 with Retry-After; 0 accepted orders lost; 0 paid twice
 * (docs/benchmarks.md#admission-control).
 *
 *   node --import tsx bench/admission.ts [--rate 15] [--duration-seconds 60] [--payment-ms 1000]
 *        [--slots 5] [--limit-seconds 30] [--drain-timeout-seconds 600]
 *
 * One worker task of `slots` slots × `payment-ms`: its capacity is slots ÷ payment seconds (5/s).
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { startFleetStack } from "./lib/fleet-stack.js";
import { buildBundles } from "./lib/stack.js";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "15" },
    "duration-seconds": { type: "string", default: "60" },
    "payment-ms": { type: "string", default: "1000" },
    slots: { type: "string", default: "5" },
    "limit-seconds": { type: "string", default: "30" },
    "drain-timeout-seconds": { type: "string", default: "600" },
  },
});
const rate = Number(values.rate);
const durationSeconds = Number(values["duration-seconds"]);
const paymentMs = Number(values["payment-ms"]);
const slots = Number(values.slots);
const limitSeconds = Number(values["limit-seconds"]);
const total = Math.round(rate * durationSeconds);
const capacity = slots / (paymentMs / 1000);

interface PhaseResult {
  name: string;
  accepted: number;
  refused429: number;
  refusedWithoutRetryAfter: number;
  otherAnswers: Record<string, number>;
  retryAfterSeconds: number[];
  maxWaitSeconds: number;
  p99WaitSeconds: number;
  maxOldestSeconds: number;
  lost: number;
  /** Orders in the store that were not answered 202: a refusal that left a row would show here. */
  recordedNotAccepted: number;
  drainedAfterBurstSeconds: number;
}

buildBundles();
const bench = await startFleetStack({ paymentMs, slots, concurrency: slots, workerTasks: 1, maxWorkerTasks: 1 });
const db = new Database(join(bench.dataDir, "surge.db"), { readonly: true, fileMustExist: true });

/** Orders of one phase are told apart by their customer id; each order's wait is paid_at − accepted_at. */
async function phase(name: string, customerId: number): Promise<PhaseResult> {
  const answers: Record<string, number> = {};
  const retryAfter: number[] = [];
  const acceptedIds: string[] = [];
  let refusedWithoutRetryAfter = 0;
  let maxOldestSeconds = 0;
  const body = JSON.stringify({ customerId, items: [{ productId: "tv", quantity: 1, price: 499 }] });
  const t0 = Date.now();
  let sending = true;
  const sampler = (async () => {
    while (sending) {
      maxOldestSeconds = Math.max(maxOldestSeconds, await bench.store.oldestWaitingAgeSeconds());
      await sleep(1000);
    }
  })();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      fetch(`${bench.url}/orders/async`, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (res) => {
          const json = (await res.json()) as { orderId?: string };
          answers[res.status] = (answers[res.status] ?? 0) + 1;
          if (res.status === 202 && json.orderId) acceptedIds.push(json.orderId);
          if (res.status === 429) {
            const seconds = Number(res.headers.get("retry-after"));
            if (Number.isInteger(seconds) && seconds >= 1) retryAfter.push(seconds);
            else refusedWithoutRetryAfter++;
          }
        })
        .catch(() => {
          answers.error = (answers.error ?? 0) + 1;
        }),
    );
  }
  await Promise.all(inFlight);
  const burstEndMs = Date.now();
  const waitingOf = db.prepare<[number], { n: number }>(
    "SELECT COUNT(*) AS n FROM orders WHERE customer_id = ? AND status NOT IN ('paid', 'dead')",
  );
  const deadline = Date.now() + Number(values["drain-timeout-seconds"]) * 1000;
  while (waitingOf.get(customerId)?.n && Date.now() < deadline) {
    maxOldestSeconds = Math.max(maxOldestSeconds, await bench.store.oldestWaitingAgeSeconds());
    await sleep(500);
  }
  sending = false;
  await sampler;

  const rows = db
    .prepare<[number], { id: string; status: string; wait: number | null; paid_at: number | null }>(
      "SELECT id, status, paid_at - accepted_at AS wait, paid_at FROM orders WHERE customer_id = ?",
    )
    .all(customerId);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const lost = acceptedIds.filter((id) => byId.get(id)?.status !== "paid").length;
  const waits = rows.flatMap((r) => (r.wait === null ? [] : [r.wait / 1000])).sort((a, b) => a - b);
  const lastPaid = Math.max(...rows.map((r) => r.paid_at ?? 0));
  const { 202: accepted = 0, 429: refused429 = 0, ...otherAnswers } = answers;
  return {
    name,
    accepted,
    refused429,
    refusedWithoutRetryAfter,
    otherAnswers,
    retryAfterSeconds: retryAfter.sort((a, b) => a - b),
    maxWaitSeconds: waits.at(-1) ?? 0,
    p99WaitSeconds: waits[Math.min(waits.length - 1, Math.floor(0.99 * waits.length))] ?? 0,
    maxOldestSeconds,
    lost,
    recordedNotAccepted: rows.length - acceptedIds.length,
    drainedAfterBurstSeconds: (lastPaid - burstEndMs) / 1000,
  };
}

try {
  while ((await bench.ops<{ running: number }>("GET", "/fleet")).running < 1) await sleep(200);
  console.log(
    `overload: ${rate} orders/s for ${durationSeconds} s (${total} orders) into 1 task × ${slots} slots × ${paymentMs} ms ` +
      `= ${capacity}/s (${(rate / capacity).toFixed(1)}× capacity); limit ${limitSeconds} s\n`,
  );
  await bench.ops("PUT", "/intake", { mode: "limit", maxProjectedWaitSeconds: limitSeconds });
  const limited = await phase(`limit ${limitSeconds} s`, 1);
  console.log(`${limited.name}: done`);
  const intake = await bench.ops<{ refused: { limit: number } }>("PUT", "/intake", { mode: "open" });
  const baseline = await phase("open (baseline)", 2);
  console.log(`${baseline.name}: done`);
  const reconcile = await bench.ops<{ paidTwice: number; inProgress: number }>("GET", "/orders/reconcile");

  const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  const row = (label: string, f: (r: PhaseResult) => string, target = "") =>
    console.log(`| ${label} | ${f(limited)} | ${f(baseline)} | ${target} |`);
  const budget = limitSeconds + paymentMs / 1000;
  console.log("\n| figure | intake limited | intake open (baseline) | target (limited) |");
  console.log("|---|---:|---:|---:|");
  row("orders accepted (202) / refused (429)", (r) => `${r.accepted} / ${r.refused429}`);
  row("other answers", (r) => JSON.stringify(r.otherAnswers), "none");
  row("refusals without a valid Retry-After", (r) => String(r.refusedWithoutRetryAfter), "0");
  row("Retry-After min / median / max", (r) =>
    r.retryAfterSeconds.length
      ? `${r.retryAfterSeconds[0]} / ${pct(r.retryAfterSeconds, 0.5)} / ${r.retryAfterSeconds.at(-1)} s`
      : "—",
  );
  row("accepted order's wait (accept → paid), p99", (r) => `${r.p99WaitSeconds.toFixed(1)} s`);
  row("accepted order's wait (accept → paid), max", (r) => `${r.maxWaitSeconds.toFixed(1)} s`, `≤ ${budget} s`);
  row("oldest waiting order, worst sample", (r) => `${r.maxOldestSeconds.toFixed(1)} s`);
  row("last order paid after the burst ended", (r) => `${r.drainedAfterBurstSeconds.toFixed(1)} s`);
  row("accepted orders lost", (r) => String(r.lost), "0");
  row("refused orders found in the store", (r) => String(r.recordedNotAccepted), "0");
  console.log(`| orders paid twice (both phases) | ${reconcile.paidTwice} | | 0 |`);
  console.log(
    `\nbaseline ÷ limited, longest wait: ${(baseline.maxWaitSeconds / limited.maxWaitSeconds).toFixed(1)}×; ` +
      `refusals counted by the API: ${intake.refused.limit}`,
  );
  const met =
    limited.maxWaitSeconds <= budget &&
    limited.refusedWithoutRetryAfter === 0 &&
    Object.keys(limited.otherAnswers).length === 0 &&
    limited.lost === 0 &&
    limited.recordedNotAccepted === 0 &&
    baseline.lost === 0 &&
    reconcile.paidTwice === 0;
  console.log(`\ntargets ${met ? "met" : "NOT met"}`);
} finally {
  db.close();
  await bench.close();
}
