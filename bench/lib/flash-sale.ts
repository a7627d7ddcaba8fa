/**
 * One run of the study's flash sale against a fresh local stack with the autoscaler on: open-loop
 * load into POST /orders/async, sampled every second until every accepted order is paid. Shared by
 * bench/flash-sale-autoscale.ts (one reactive run) and bench/prewarm.ts (reactive vs a sale window).
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { startFleetStack } from "./fleet-stack.js";

export interface FlashSaleOptions {
  /** Orders per second, open loop. */
  rate: number;
  durationSeconds: number;
  maxTasks: number;
  paymentMs: number;
  slots: number;
  /** The policy's targetBacklogPerTask. */
  targetBacklogPerTask: number;
  scaleOutCooldownSeconds: number;
  scaleInCooldownSeconds: number;
  drainTimeoutSeconds: number;
  /** Book a sale window (POST /ops/schedules) starting `leadSeconds` before the burst with `minTasks`. */
  prewarm?: { leadSeconds: number; minTasks: number };
  /** Prefix of the progress lines, e.g. "reactive". */
  label?: string;
}

export interface FlashSaleSample {
  t: number;
  sent: number;
  backlog: number;
  processing: number;
  paid: number;
  oldestAgeSeconds: number;
  desired: number;
  running: number;
  pending: number;
}

export interface FlashSaleResult {
  total: number;
  accepted: number;
  refused: number;
  /** Accept latency (send → 202) of the burst's orders, ms, sorted. */
  acceptMs: number[];
  /** The oldest waiting order's age, worst of the once-a-second readings over the burst and the drain. */
  maxOldestAgeSeconds: number;
  /** Burst end → the last order paid, seconds. */
  lastPaidAfterBurstSeconds: number;
  /** Burst start → the last order paid, minutes. */
  burstStartToLastPaidMinutes: number;
  /** Worker processes the supervisor started before the burst (including the first task). */
  workerStartsBeforeBurst: number;
  /** Worker processes the supervisor started from the burst's first order to its last. */
  workerStartsDuringBurst: number;
  /** Tasks running when the first order was sent. */
  runningAtBurstStart: number;
  peakRunning: number;
  paid: number;
  paidTwice: number;
  inProgress: number;
  /** One task's measured rate (payments ledger, full waves), orders/s; undefined when too few waves. */
  oneTaskRate: number | undefined;
  samples: FlashSaleSample[];
  /** Scaling activities, oldest first, `t` in seconds from the burst's start (negative before it). */
  activities: Array<{ t: number; actor: string; status: string; cause: string }>;
  fleetTimeouts: number;
}

/** The p-th percentile of an ascending array (nearest rank); NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * The console's capacity planner, "tasks for the target age" with nothing waiting yet
 * (web/src/lib/planner.ts `plan().tasksForTargetAge`): a task pays min(slots, concurrency) ÷
 * duration orders/s, and the fleet must match the arrivals. The web workspace exports no planner
 * by package name, so the same arithmetic is here: ceil(48 ÷ (5 ÷ 3 s)) = 29.
 */
export function plannerMinimum(rate: number, slots: number, concurrency: number, paymentMs: number): number {
  const perTask = Math.min(slots, concurrency) / (Math.max(paymentMs, 1) / 1000);
  return Math.max(1, Math.ceil(rate / perTask - 1e-9));
}
export async function runFlashSale(options: FlashSaleOptions): Promise<FlashSaleResult> {
  const { rate, durationSeconds, maxTasks, paymentMs, slots } = options;
  const total = Math.round(rate * durationSeconds);
  const say = (line: string) => console.log(options.label ? `[${options.label}] ${line}` : line);
  const bench = await startFleetStack({
    paymentMs,
    slots,
    concurrency: slots,
    workerTasks: 1,
    maxWorkerTasks: Math.max(50, maxTasks, options.prewarm?.minTasks ?? 0),
  });
  const workerStarts: number[] = [];
  bench.stack.supervisor.on("task-started", () => workerStarts.push(Date.now()));
  const db = new Database(join(bench.dataDir, "surge.db"), { readonly: true, fileMustExist: true });

  const samples: FlashSaleSample[] = [];
  const acceptMs: number[] = [];
  let sent = 0;
  let refused = 0;
  try {
    await bench.ops("PUT", "/autoscaling", {
      enabled: true,
      minTasks: 1,
      maxTasks,
      targetBacklogPerTask: options.targetBacklogPerTask,
      scaleOutCooldownSeconds: options.scaleOutCooldownSeconds,
      scaleInCooldownSeconds: options.scaleInCooldownSeconds,
    });
    while ((await bench.ops<{ running: number }>("GET", "/fleet")).running < 1) await sleep(200);
    const paidBefore = (await bench.store.countByStatus()).paid;

    // The burst starts at t0; with a pre-warm, a sale window opens `leadSeconds` before it (booked
    // a second ahead: a start in the past is refused) and lasts until 10 minutes after the burst.
    let t0 = Date.now() + 1000;
    if (options.prewarm) {
      const startsAt = Date.now() + 1000;
      t0 = startsAt + options.prewarm.leadSeconds * 1000;
      await bench.ops("POST", "/schedules", {
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(t0 + (durationSeconds + 600) * 1000).toISOString(),
        minTasks: options.prewarm.minTasks,
      });
      say(
        `sale window booked: ${options.prewarm.minTasks} tasks from ${options.prewarm.leadSeconds} s before the burst`,
      );
    }
    const elapsed = () => (Date.now() - t0) / 1000;
    const burstEndMs = t0 + durationSeconds * 1000;

    // The sampler: one reading per second until every order is paid (from the window's start, with
    // a pre-warm). A fleet read that times out (a loaded machine) repeats the last one seen.
    let sampling = true;
    let lastFleet = { desiredCount: 0, running: 0, pending: 0 };
    let fleetTimeouts = 0;
    let runningAtBurstStart = -1;
    const sampler = (async () => {
      while (sampling) {
        const [counts, oldest, fleet] = await Promise.all([
          bench.store.countByStatus(),
          bench.store.oldestWaitingAgeSeconds(),
          bench.ops<{ desiredCount: number; running: number; pending: number }>("GET", "/fleet").catch(() => {
            fleetTimeouts++;
            return lastFleet;
          }),
        ]);
        lastFleet = fleet;
        samples.push({
          t: elapsed(),
          sent,
          backlog: counts.queued + counts.failed,
          processing: counts.processing,
          paid: counts.paid - paidBefore,
          oldestAgeSeconds: oldest,
          desired: fleet.desiredCount,
          running: fleet.running,
          pending: fleet.pending,
        });
        await sleep(1000);
      }
    })();

    if (t0 > Date.now()) await sleep(t0 - Date.now());
    runningAtBurstStart = bench.stack.supervisor.snapshot().running;
    say(`burst: ${rate} orders/s for ${durationSeconds} s (${total} orders), ${runningAtBurstStart} tasks running`);

    // Open-loop load: order i leaves at i ÷ rate, whatever happened to the ones before.
    const body = JSON.stringify({ customerId: 7, items: [{ productId: "tv", quantity: 1, price: 499 }] });
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      sent++;
      const started = performance.now();
      inFlight.push(
        fetch(`${bench.url}/orders/async`, { method: "POST", headers: { "content-type": "application/json" }, body })
          .then(async (res) => {
            await res.arrayBuffer();
            if (res.status === 202) acceptMs.push(performance.now() - started);
            else refused++;
          })
          .catch(() => {
            refused++;
          }),
      );
    }
    await Promise.all(inFlight);
    const burstAnsweredMs = Date.now();
    const accepted = total - refused;
    say(`burst over at ${elapsed().toFixed(1)} s: ${accepted} accepted, ${refused} refused; draining…`);

    const drainDeadline = Date.now() + options.drainTimeoutSeconds * 1000;
    while ((await bench.store.countByStatus()).paid - paidBefore < accepted && Date.now() < drainDeadline)
      await sleep(500);
    sampling = false;
    await sampler;

    // Facts from the store and the ledger.
    const lastPaidAt = db.prepare<[], { t: number | null }>("SELECT MAX(paid_at) AS t FROM orders").get()?.t ?? 0;
    const paid = (await bench.store.countByStatus()).paid - paidBefore;
    const reconcile = await bench.ops<{ ok: boolean; paidTwice: number; inProgress: number }>(
      "GET",
      "/orders/reconcile",
    );
    const firstTask = db
      .prepare<[], { created_at: number }>(
        "SELECT created_at FROM payments WHERE processor_id = (SELECT processor_id FROM payments ORDER BY created_at LIMIT 1) ORDER BY created_at",
      )
      .all()
      .map((r) => r.created_at);
    const activities = (
      await bench.ops<{ activities: Array<{ at: string; actor: string; status: string; cause: string }> }>(
        "GET",
        "/scaling-activities?limit=200",
      )
    ).activities
      .reverse()
      .map((a) => ({ t: (Date.parse(a.at) - t0) / 1000, actor: a.actor, status: a.status, cause: a.cause }));
    // "During the burst": from the first order sent to the last one answered.
    const burstEnd = Math.max(burstEndMs, burstAnsweredMs);
    return {
      total,
      accepted,
      refused,
      acceptMs: acceptMs.sort((a, b) => a - b),
      maxOldestAgeSeconds: Math.max(...samples.filter((s) => s.t >= 0).map((s) => s.oldestAgeSeconds)),
      lastPaidAfterBurstSeconds: (lastPaidAt - burstEndMs) / 1000,
      burstStartToLastPaidMinutes: (lastPaidAt - t0) / 60_000,
      workerStartsBeforeBurst: workerStarts.filter((t) => t < t0).length,
      workerStartsDuringBurst: workerStarts.filter((t) => t >= t0 && t <= burstEnd).length,
      runningAtBurstStart,
      peakRunning: Math.max(...samples.map((s) => s.running)),
      paid,
      paidTwice: reconcile.paidTwice,
      inProgress: reconcile.inProgress,
      oneTaskRate: sustainedRate(firstTask, paymentMs, slots),
      samples,
      activities,
      fleetTimeouts,
    };
  } finally {
    db.close();
    await bench.close();
  }
}

/** The run's timeline, a row every 5 s, and its scaling activities, as Markdown for docs/benchmarks.md. */
export function printTimeline(result: FlashSaleResult): void {
  console.log("\nTimeline (every 5 s; t = 0 is the burst's first order):\n");
  console.log("| t (s) | orders sent | waiting | paying | paid | oldest waiting (s) | desired | running | pending |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  let nextRow = Number.NEGATIVE_INFINITY;
  for (const s of result.samples) {
    if (s.t + 0.5 < nextRow) continue;
    nextRow = (Math.round(s.t / 5) + 1) * 5;
    console.log(
      `| ${s.t.toFixed(0)} | ${s.sent} | ${s.backlog} | ${s.processing} | ${s.paid} | ${s.oldestAgeSeconds.toFixed(1)} | ${s.desired} | ${s.running} | ${s.pending} |`,
    );
  }
  console.log("\nScaling activities (oldest first):\n");
  for (const a of result.activities) {
    console.log(`  ${a.t.toFixed(1).padStart(6)} s  ${a.actor.padEnd(10)} ${a.status.padEnd(10)} ${a.cause}`);
  }
  if (result.fleetTimeouts > 0)
    console.log(`\n(${result.fleetTimeouts} fleet reads timed out and repeated the previous sample)`);
}

/** A task's sustained rate: full waves of `slots` charges, one per payment duration (as in bench/scaling.ts). */
function sustainedRate(times: number[], paymentMs: number, slots: number): number | undefined {
  const waves: number[][] = [];
  for (const t of times) {
    const last = waves.at(-1);
    if (last && t - (last.at(-1) ?? t) < paymentMs / 2) last.push(t);
    else waves.push([t]);
  }
  const full = waves.filter((w) => w.length === slots);
  const first = full[0]?.at(-1);
  const last = full.at(-1)?.at(-1);
  if (full.length < 2 || first === undefined || last === undefined || last === first) return undefined;
  return (slots * (full.length - 1)) / ((last - first) / 1000);
}
