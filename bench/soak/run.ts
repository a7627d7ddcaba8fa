/**
 * The soak: steady async load on a local stack for minutes, with the API's and every worker task's
 * resident memory, V8 heap and event-loop delay read from their /metrics (prom-client's process
 * metrics; the delay is perf_hooks' monitorEventLoopDelay, reset at each scrape) at a fixed interval.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage, type Reconciliation } from "@surge/core";
import { Burst, type BurstStats, HttpOrderTarget, parseBurstSpec } from "@surge/loadgen";
import { type AuditVerdict, auditVerdict, reconcileThroughApi } from "@surge/loadgen/audit";
import { type ReportedOptions, reportedOptions, requireBundles, startBenchStack } from "../lib/stack.js";
import { type ProcessSample, sampleFromMetrics, type TrendVerdict, trendOf } from "./analysis.js";

interface SoakOptions {
  repoRoot: string;
  dataDir: string;
  /** Length of the load, in minutes (at most 10: the burst bound). */
  minutes: number;
  ratePerSecond: number;
  workerTasks: number;
  workerConcurrency: number;
  paymentDurationMs: number;
  sampleIntervalSeconds: number;
  /** Samples before this are left out of the trend (JIT, pools and caches fill up). */
  warmupSeconds: number;
  /** Growth over the measured span, as % of the mean, from which a process "grows". Default 10. */
  growthLimitPercent?: number;
  databaseUrl?: string | undefined;
  log?: (line: string) => void;
}

interface ProcessSeries {
  name: string;
  samples: ProcessSample[];
  trend: TrendVerdict;
}

interface SoakReport {
  options: ReportedOptions<SoakOptions>;
  burst: Pick<BurstStats, "sent" | "requests" | "failures" | "dropped" | "throughputPerSecond"> & { p99Ms: number };
  /** The API and each worker task: what the verdict is about. */
  processes: ProcessSeries[];
  /** This process (load generator and the in-memory emulator): for reference, not judged. */
  runner: ProcessSeries;
  queueVisibleMax: number;
  reconciliation: Reconciliation;
  audit: AuditVerdict;
  /** Every judged process steady, and every order accounted for. */
  steady: boolean;
}

async function scrape(url: string, atSeconds: number): Promise<ProcessSample | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return res.ok ? sampleFromMetrics(await res.text(), atSeconds) : undefined;
  } catch {
    return undefined; // a task restarting: a gap in its series, not a failure of the run
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  requireBundles(options.repoRoot);
  const bench = await startBenchStack({
    repoRoot: options.repoRoot,
    dataDir: options.dataDir,
    name: "soak-orders",
    workerTasks: options.workerTasks,
    workerConcurrency: options.workerConcurrency,
    env: {
      PAYMENT_DURATION_MS: String(options.paymentDurationMs),
      LOG_LEVEL: "warn",
      ...(options.databaseUrl && { DATABASE_URL: options.databaseUrl }),
    },
  });
  const { stack, opsToken, queue } = bench;
  const series = new Map<string, ProcessSample[]>();
  const runner: ProcessSample[] = [];
  const ownLag = monitorEventLoopDelay({ resolution: 10 });
  ownLag.enable();
  let queueVisibleMax = 0;
  const t0 = Date.now();
  const now = () => (Date.now() - t0) / 1000;

  const sampleAll = async () => {
    const at = now();
    const targets: Array<[string, string]> = [["api", `${stack.apiUrl}/metrics`]];
    for (const task of stack.supervisor.snapshot().tasks) {
      if (task.metricsPort) targets.push([`worker ${task.taskId}`, `http://127.0.0.1:${task.metricsPort}/metrics`]);
    }
    const results = await Promise.all(targets.map(async ([name, url]) => [name, await scrape(url, at)] as const));
    for (const [name, sample] of results) {
      if (!sample) continue;
      if (!series.has(name)) series.set(name, []);
      series.get(name)?.push(sample);
    }
    const memory = process.memoryUsage();
    runner.push({
      atSeconds: at,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      loopLagP99Ms: ownLag.percentile(99) / 1e6,
      loopLagMaxMs: ownLag.max / 1e6,
    });
    ownLag.reset();
    const depth = await queue.depth().catch(() => undefined);
    if (depth) queueVisibleMax = Math.max(queueVisibleMax, depth.visible);
  };

  let report: SoakReport | undefined;
  try {
    const burst = new Burst({
      spec: parseBurstSpec({
        mode: "async",
        ratePerSecond: options.ratePerSecond,
        durationSeconds: options.minutes * 60,
      }),
      target: new HttpOrderTarget(stack.apiUrl, { userAgent: "surge-soak" }),
      targetUrl: stack.apiUrl,
      startedBy: "soak",
    });
    log(
      `soak: ${options.ratePerSecond} orders/s for ${options.minutes} min, sampling every ${options.sampleIntervalSeconds} s`,
    );
    const done = burst.start();
    let finished = false;
    const sampler = (async () => {
      let next = 0;
      while (!finished) {
        await sampleAll();
        next += options.sampleIntervalSeconds * 1000;
        const api = series.get("api")?.at(-1);
        if (api) {
          log(
            `  t=${now().toFixed(0).padStart(4)} s  api rss ${(api.rssBytes / 1048576).toFixed(1)} MB, heap ${(api.heapUsedBytes / 1048576).toFixed(1)} MB, loop p99 ${api.loopLagP99Ms.toFixed(1)} ms; queue max ${queueVisibleMax}`,
          );
        }
        await sleep(Math.max(0, t0 + next - Date.now()));
      }
    })();
    const stats = await done;
    finished = true;
    await sampler;

    // Let the last orders finish, then account for all of them.
    let reconciliation = await reconcileThroughApi(stack.apiUrl, opsToken);
    const deadline = Date.now() + 60_000;
    while ((reconciliation.inProgress > 0 || reconciliation.outboxPending > 0) && Date.now() < deadline) {
      await sleep(500);
      reconciliation = await reconcileThroughApi(stack.apiUrl, opsToken);
    }
    const judge = (name: string, samples: ProcessSample[]): ProcessSeries => ({
      name,
      samples,
      trend: trendOf(samples, { warmupSeconds: options.warmupSeconds, growthLimitPercent: options.growthLimitPercent }),
    });
    const processes = [...series.entries()].map(([name, samples]) => judge(name, samples));
    const audit = auditVerdict(reconciliation);
    report = {
      options: { ...reportedOptions(options), growthLimitPercent: options.growthLimitPercent ?? 10 },
      burst: {
        sent: stats.sent,
        requests: stats.requests,
        failures: stats.failures,
        dropped: stats.dropped,
        throughputPerSecond: stats.throughputPerSecond,
        p99Ms: stats.latencyMs.p99,
      },
      processes,
      runner: judge("runner (load generator + emulator)", runner),
      queueVisibleMax,
      reconciliation,
      audit,
      steady: audit.ok && audit.settled && processes.every((p) => p.trend.verdict === "steady"),
    };
  } catch (error) {
    throw new Error(`soak failed: ${errorMessage(error)}`);
  } finally {
    ownLag.disable();
    await bench.close();
  }
  return report;
}

export function formatSoakReport(r: SoakReport): string {
  const o = r.options;
  const head = [
    "process",
    "samples",
    "RSS start→end MB",
    "RSS slope MB/min",
    "RSS growth",
    "heap slope MB/min",
    "heap growth",
    "loop p99 median / worst ms",
    "loop max ms",
    "verdict",
  ];
  const row = (p: ProcessSeries) => [
    p.name,
    `${p.trend.measured}/${p.trend.samples}`,
    `${p.trend.rssStartMb} → ${p.trend.rssEndMb}`,
    p.trend.rssSlopeMbPerMinute.toFixed(3),
    `${p.trend.rssGrowthPercent}%`,
    p.trend.heapSlopeMbPerMinute.toFixed(3),
    `${p.trend.heapGrowthPercent}%`,
    `${p.trend.loopLagP99MedianMs} / ${p.trend.loopLagP99WorstMs}`,
    String(p.trend.loopLagMaxMs),
    p.trend.verdict,
  ];
  const table = [head, head.map(() => "---"), ...r.processes.map(row), row(r.runner)].map(
    (cells) => `| ${cells.join(" | ")} |`,
  );
  return [
    `Soak: ${Math.round(o.minutes * 60)} s of async load at ${o.ratePerSecond} orders/s, ${o.workerTasks} worker task(s) × concurrency ${o.workerConcurrency}, payment ${o.paymentDurationMs} ms, ${o.store}`,
    `samples every ${o.sampleIntervalSeconds} s; the trend is fitted after a ${o.warmupSeconds} s warm-up; "grows" = ${o.growthLimitPercent}% of the mean or more over the measured span;`,
    "event-loop delay is prom-client's monitorEventLoopDelay at 10 ms resolution: an idle loop reads about 10 ms",
    "",
    ...table,
    "",
    `load: ${r.burst.sent} sent, ${r.burst.requests} answered (${r.burst.failures} failed), ${r.burst.throughputPerSecond.toFixed(1)}/s, p99 ${r.burst.p99Ms.toFixed(1)} ms; queue visible max ${r.queueVisibleMax}`,
    `orders: ${r.reconciliation.accepted} accepted, ${r.reconciliation.byStatus.paid} paid, ${r.reconciliation.byStatus.dead} dead, ${r.reconciliation.inProgress} in progress, ${r.reconciliation.paidTwice} paid twice`,
    "",
    r.steady
      ? "STEADY: no growth trend in the API or any worker task, every order accounted for"
      : `NOT STEADY: ${[
          ...r.processes.filter((p) => p.trend.verdict !== "steady").map((p) => `${p.name} ${p.trend.verdict}`),
          ...r.audit.problems,
          r.audit.settled ? "" : "orders still in progress",
        ]
          .filter(Boolean)
          .join("; ")}`,
  ].join("\n");
}
