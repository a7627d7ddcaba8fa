/**
 * The chaos run: a local stack on random loopback ports, an async flash sale from the burst engine,
 * and during it the faults the issue names — kill -9 of worker tasks and of the API, the in-memory
 * emulator restarted (every message in it lost), the SNS publish path stopped — then an order audit
 * from both sides: the store's reconciliation and every 202 the flash sale received.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage, type Reconciliation } from "@surge/core";
import { Burst, type BurstMode, type BurstStats, type OrderTarget, parseBurstSpec, seededRandom } from "@surge/loadgen";
import { type AuditVerdict, auditVerdict, reconcileThroughApi } from "@surge/loadgen/audit";
import { Pool } from "undici";
import { type ReportedOptions, reportedOptions, requireBundles, startBenchStack } from "../lib/stack.js";

interface ChaosOptions {
  repoRoot: string;
  /** Where the stack keeps its store and logs. */
  dataDir: string;
  /** Length of the flash sale, in s. */
  durationSeconds: number;
  /** Orders per second the flash sale sends (open loop). */
  ratePerSecond: number;
  workerTasks: number;
  workerConcurrency: number;
  paymentDurationMs: number;
  /** Probability a payment is declined (retried with backoff, dead after maxReceiveCount). */
  paymentFailureRate: number;
  /** How long the SNS publish path is stopped, in s. */
  publishOutageSeconds: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** The API's stale-order sweep threshold (REPUBLISH_STALE_AFTER_SECONDS). */
  republishAfterSeconds: number;
  /** How long the run waits for every accepted order to end after the sale, in s (the bound). */
  drainTimeoutSeconds: number;
  /** Seeds the choice of victims, so a run can be repeated. */
  seed: number;
  /** PostgreSQL instead of the embedded SQLite. */
  databaseUrl?: string | undefined;
  /** Progress lines. */
  log?: (line: string) => void;
}

interface InjectedFault {
  atSeconds: number;
  kind: "kill -9 worker" | "kill -9 api" | "publish outage" | "emulator restart";
  detail: string;
}

export interface ChaosReport {
  options: ReportedOptions<ChaosOptions>;
  faults: InjectedFault[];
  burst: Pick<BurstStats, "sent" | "requests" | "failures" | "dropped" | "abandoned" | "throughputPerSecond">;
  /** Orders the flash sale was answered 202 for. */
  answered202: number;
  /** Of those, what the API says they became. */
  clientView: { paid: number; dead: number; lost: number; lostIds: string[] };
  /** Dead orders' reasons among the 202s, with counts. */
  deadReasons: Record<string, number>;
  reconciliation: Reconciliation;
  verdict: AuditVerdict;
  /** Messages on the queue when the emulator was restarted: lost with it. */
  messagesLost: number;
  /** Orders the API published again from the store after the broker lost them (its log). */
  republished: number;
  /** From the end of the sale until every accepted order was paid or dead, in s (undefined: not within the bound). */
  drainSeconds: number | undefined;
  passed: boolean;
}

/** Records the id of every order answered 202, so the audit can follow each one. */
class RecordingTarget implements OrderTarget {
  readonly accepted = new Set<string>();
  readonly #pool: Pool;

  constructor(baseUrl: string) {
    this.#pool = new Pool(baseUrl, { connections: null, pipelining: 1, keepAliveTimeout: 5_000 });
  }

  async placeOrder(mode: BurstMode, body: string, signal: AbortSignal): Promise<{ status: number }> {
    const res = await this.#pool.request({
      method: "POST",
      path: `/orders/${mode}`,
      headers: { "content-type": "application/json", "user-agent": "surge-chaos" },
      body,
      signal,
    });
    const text = await res.body.text();
    if (res.statusCode === 202) this.accepted.add((JSON.parse(text) as { orderId: string }).orderId);
    return { status: res.statusCode };
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** Retries `fn` until it succeeds or `timeoutMs` passes (the API may be restarting). */
async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${errorMessage(error)}`);
      await sleep(200);
    }
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  requireBundles(options.repoRoot);
  const random = seededRandom(options.seed);
  const bench = await startBenchStack({
    repoRoot: options.repoRoot,
    dataDir: options.dataDir,
    name: "chaos-orders",
    workerTasks: options.workerTasks,
    workerConcurrency: options.workerConcurrency,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount,
    env: {
      PAYMENT_DURATION_MS: String(options.paymentDurationMs),
      PAYMENT_FAILURE_RATE: String(options.paymentFailureRate),
      REPUBLISH_STALE_AFTER_SECONDS: String(options.republishAfterSeconds),
      REPUBLISH_INTERVAL_MS: "1000",
      // Short long-polls and retries: a restarted emulator is found again within seconds.
      WAIT_TIME_SECONDS: "2",
      RETRY_BASE_DELAY_SECONDS: "1",
      SHUTDOWN_DEADLINE_MS: "5000",
      LOG_LEVEL: "info",
      ...(options.databaseUrl && { DATABASE_URL: options.databaseUrl }),
    },
    supervisor: { restartBaseDelayMs: 200, restartMaxDelayMs: 2000, stopTimeoutMs: 10_000 },
  });
  const { stack, opsToken, queue } = bench;
  const faults: InjectedFault[] = [];
  const t0 = Date.now();
  const at = () => Math.round((Date.now() - t0) / 100) / 10;
  const record = (kind: InjectedFault["kind"], detail: string) => {
    faults.push({ atSeconds: at(), kind, detail });
    log(`  t=${at().toFixed(1)}s  ${kind}: ${detail}`);
  };

  const killWorkers = (n: number) => {
    const running = stack.supervisor.snapshot().tasks.filter((t) => t.status === "running" && t.pid);
    for (let i = 0; i < n && running.length > 0; i++) {
      const [victim] = running.splice(Math.floor(random() * running.length), 1);
      if (victim && stack.supervisor.signalTask(victim.taskId, "SIGKILL")) {
        record("kill -9 worker", `task ${victim.taskId} (pid ${victim.pid}), ${victim.inFlight} order(s) in flight`);
      }
    }
  };
  const killApi = () => {
    const pid = stack.api.pid;
    if (stack.api.kill("SIGKILL")) record("kill -9 api", `pid ${pid}; the stack runner restarts it`);
  };
  const stopPublishing = async () => {
    await retrying("PUT /ops/faults/publish", async () => {
      const res = await fetch(`${stack.apiUrl}/ops/faults/publish`, {
        method: "PUT",
        headers: { authorization: `Bearer ${opsToken}`, "content-type": "application/json" },
        body: JSON.stringify({ outageSeconds: options.publishOutageSeconds }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
    });
    record("publish outage", `every SNS publish fails for ${options.publishOutageSeconds} s (PUT /ops/faults/publish)`);
  };
  let messagesLost = 0;
  const restartEmulator = async () => {
    const depth = await queue.depth().catch(() => ({ visible: 0, inFlight: 0, delayed: 0 }));
    messagesLost = depth.visible + depth.inFlight + depth.delayed;
    await stack.restartEmulator();
    record(
      "emulator restart",
      `fauxqs stopped and started empty: ${messagesLost} message(s) on the queue (${depth.inFlight} in flight) lost`,
    );
  };

  // The faults, at fixed points of the sale; victims are chosen by the seeded PRNG.
  const D = options.durationSeconds * 1000;
  const timeline: Array<[number, () => void | Promise<void>]> = [
    [0.1, () => killWorkers(1)],
    [0.2, killApi],
    [0.35, () => killWorkers(2)],
    [0.45, restartEmulator],
    [0.6, stopPublishing],
    [0.75, killApi],
    [0.85, () => killWorkers(1)],
  ];

  let report: ChaosReport | undefined;
  try {
    const target = new RecordingTarget(stack.apiUrl);
    const burst = new Burst({
      spec: parseBurstSpec({
        mode: "async",
        ratePerSecond: options.ratePerSecond,
        durationSeconds: options.durationSeconds,
      }),
      target,
      targetUrl: stack.apiUrl,
      startedBy: "chaos",
    });
    log(`flash sale: ${options.ratePerSecond} orders/s for ${options.durationSeconds} s; faults:`);
    const done = burst.start();
    const chaos = (async () => {
      for (const [fraction, fault] of timeline) {
        await sleep(Math.max(0, t0 + fraction * D - Date.now()));
        try {
          await fault();
        } catch (error) {
          log(`  t=${at().toFixed(1)}s  fault failed: ${errorMessage(error)}`);
        }
      }
    })();
    const [stats] = await Promise.all([done, chaos]);
    const saleEndedAt = Date.now();
    log(`sale over: ${stats.sent} sent, ${target.accepted.size} answered 202; waiting for every order to end…`);

    // Drain: every accepted order paid or dead, within the bound.
    let reconciliation: Reconciliation | undefined;
    let drainSeconds: number | undefined;
    const drainDeadline = saleEndedAt + options.drainTimeoutSeconds * 1000;
    while (Date.now() < drainDeadline) {
      reconciliation = await retrying("GET /ops/orders/reconcile", () => reconcileThroughApi(stack.apiUrl, opsToken));
      if (reconciliation.inProgress === 0 && reconciliation.outboxPending === 0) {
        drainSeconds = Math.round((Date.now() - saleEndedAt) / 100) / 10;
        break;
      }
      await sleep(500);
    }
    reconciliation ??= await reconcileThroughApi(stack.apiUrl, opsToken);

    // The client's side: every 202 it was given, followed to its end.
    const clientView = { paid: 0, dead: 0, lost: 0, lostIds: [] as string[] };
    const deadReasons: Record<string, number> = {};
    const ids = [...target.accepted];
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map(async (id) => {
          const order = await retrying(`GET /orders/${id}`, async () => {
            const res = await fetch(`${stack.apiUrl}/orders/${id}`);
            if (res.status >= 500) throw new Error(String(res.status));
            return res.status === 404 ? undefined : ((await res.json()) as { status: string; lastError?: string });
          });
          if (order?.status === "paid") clientView.paid++;
          else if (order?.status === "dead") {
            clientView.dead++;
            const reason = (order.lastError ?? "(no reason)").replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<order>");
            deadReasons[reason] = (deadReasons[reason] ?? 0) + 1;
          } else {
            clientView.lost++;
            if (clientView.lostIds.length < 20)
              clientView.lostIds.push(`${id} (${order?.status ?? "not in the store"})`);
          }
        }),
      );
    }

    const verdict = auditVerdict(reconciliation);
    report = {
      options: reportedOptions(options),
      faults,
      burst: {
        sent: stats.sent,
        requests: stats.requests,
        failures: stats.failures,
        dropped: stats.dropped,
        abandoned: stats.abandoned,
        throughputPerSecond: stats.throughputPerSecond,
      },
      answered202: ids.length,
      clientView,
      deadReasons,
      reconciliation,
      verdict,
      messagesLost,
      republished: 0,
      drainSeconds,
      passed:
        verdict.ok &&
        verdict.settled &&
        clientView.lost === 0 &&
        reconciliation.paidTwice === 0 &&
        // Every 202 is in the store; the store may hold more (answers cut off by a kill).
        reconciliation.accepted >= ids.length,
    };
  } finally {
    await bench.close();
  }
  report.republished = republishedFromLog(join(options.dataDir, "logs/api.log"));
  return report;
}

/** Sums the API's "published orders again" log lines across its restarts (its counter restarts with it). */
function republishedFromLog(file: string): number {
  if (!existsSync(file)) return 0;
  let total = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.includes("published orders again")) continue;
    try {
      total += Number((JSON.parse(line) as { orders?: number }).orders ?? 0);
    } catch {
      // Not a JSON line (a crash's stack trace): not a sweep.
    }
  }
  return total;
}

export function formatChaosReport(r: ChaosReport): string {
  const o = r.options;
  const row = (label: string, value: string | number) => `  ${label.padEnd(44)} ${value}`;
  const reasons = Object.entries(r.deadReasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `      ${n} × ${reason}`);
  return [
    `Chaos run: ${o.durationSeconds} s async flash sale at ${o.ratePerSecond} orders/s, ${o.workerTasks} worker task(s) × concurrency ${o.workerConcurrency},`,
    `payment ${o.paymentDurationMs} ms with ${o.paymentFailureRate * 100}% declines, ${o.store}, seed ${o.seed}`,
    "",
    `Faults injected (${r.faults.length}):`,
    ...r.faults.map((f) => `  t=${f.atSeconds.toFixed(1).padStart(6)} s  ${f.kind.padEnd(17)} ${f.detail}`),
    "",
    "Orders",
    row("sent by the flash sale", r.burst.sent),
    row("answered 202 (accepted)", r.answered202),
    row("refused or unanswered (API down, cut off)", r.burst.sent - r.answered202),
    row("in the store (accepted, incl. answers lost)", r.reconciliation.accepted),
    row("paid", r.reconciliation.byStatus.paid),
    row(
      "dead, every one explained",
      `${r.reconciliation.byStatus.dead} (unexplained: ${r.reconciliation.deadUnexplained})`,
    ),
    ...reasons,
    row("lost (a 202 never paid nor dead)", r.clientView.lost),
    row("paid twice", r.reconciliation.paidTwice),
    row("messages lost with the emulator", r.messagesLost),
    row("orders published again from the store", r.republished),
    row(
      "drained after the sale",
      r.drainSeconds === undefined ? `NOT within ${o.drainTimeoutSeconds} s` : `${r.drainSeconds} s`,
    ),
    ...(r.clientView.lostIds.length > 0 ? ["", "Lost:", ...r.clientView.lostIds.map((id) => `  ${id}`)] : []),
    "",
    r.passed
      ? "PASS: 0 lost, 0 paid twice, every dead order explained"
      : `FAIL: ${[...r.verdict.problems, r.clientView.lost > 0 ? `${r.clientView.lost} lost` : "", r.verdict.settled ? "" : "not settled"].filter(Boolean).join("; ")}`,
  ].join("\n");
}
