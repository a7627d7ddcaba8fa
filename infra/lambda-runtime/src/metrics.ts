import { LATENCY_BUCKETS_SECONDS } from "@surge/core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AsyncInvoker } from "./async-invoker.js";
import type { LocalLambdaFunction } from "./function.js";

/** Init durations cluster around Node's start-up: fine buckets from 10 ms to the 10 s init limit. */
const INIT_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.06, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10];

const STARTS = ["cold", "warm"] as const;
const OUTCOMES = ["success", "error"] as const;

/**
 * The runtime's metrics (job surge-lambda; catalogue in docs/observability.md): names are the
 * dashboards' contract, and gauges read the function's state at scrape time.
 */
export function createLambdaMetrics(fn: LocalLambdaFunction, invoker?: AsyncInvoker) {
  const registry = new Registry();
  registry.setDefaultLabels({ function: fn.functionName });
  const invocations = new Counter({
    name: "surge_lambda_invocations_total",
    help: "Invocations by start type (cold: a new execution environment was initialised) and outcome.",
    labelNames: ["start", "outcome"] as const,
    registers: [registry],
  });
  for (const start of STARTS) for (const outcome of OUTCOMES) invocations.labels(start, outcome).inc(0);
  const initDuration = new Histogram({
    name: "surge_lambda_init_duration_seconds",
    help: "Init Duration of cold starts: process spawn to handler module loaded and ready.",
    buckets: INIT_BUCKETS_SECONDS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "surge_lambda_duration_seconds",
    help: "Invocation duration (the REPORT line's Duration), init excluded.",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const billed = new Counter({
    name: "surge_lambda_billed_duration_seconds_total",
    help: "Billed duration (duration plus init, rounded up to the ms), summed: × memory size = GB-seconds.",
    registers: [registry],
  });
  const throttles = new Counter({
    name: "surge_lambda_throttles_total",
    help: "Invocations refused because the function was at its reserved concurrency.",
    registers: [registry],
  });
  const errors = new Counter({
    name: "surge_lambda_errors_total",
    help: "Invocations that ended in an error: the handler threw, timed out, or its environment died.",
    registers: [registry],
  });
  const environmentsEnded = new Counter({
    name: "surge_lambda_environments_ended_total",
    help: "Execution environments shut down, by reason (idle expiry, timeout, crash, failed init, shutdown).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  for (const reason of ["idle", "timeout", "crash", "init-failed", "deprovisioned", "shutdown"] as const) {
    environmentsEnded.labels(reason).inc(0);
  }
  new Gauge({
    name: "surge_lambda_concurrent_executions",
    help: "Invocations running now, including those waiting for their environment's init.",
    registers: [registry],
    collect() {
      this.set(fn.concurrentExecutions);
    },
  });
  const provisionedInvocations = new Counter({
    name: "surge_lambda_provisioned_invocations_total",
    help: "Invocations served by a provisioned environment (no cold start): Lambda's ProvisionedConcurrencyInvocations.",
    registers: [registry],
  });
  const spillover = new Counter({
    name: "surge_lambda_provisioned_spillover_invocations_total",
    help: "Invocations run on on-demand environments while provisioned concurrency was set: Lambda's ProvisionedConcurrencySpilloverInvocations.",
    registers: [registry],
  });
  new Gauge({
    name: "surge_lambda_provisioned_concurrency",
    help: "Provisioned concurrency configured: environments kept initialised ahead of invocations.",
    registers: [registry],
    collect() {
      this.set(fn.provisionedConcurrency);
    },
  });
  new Gauge({
    name: "surge_lambda_provisioned_environments",
    help: "Provisioned environments by state: ready (initialised) or initializing.",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const counts = fn.provisionedCounts();
      this.labels("ready").set(counts.ready);
      this.labels("initializing").set(counts.initializing);
    },
  });
  new Gauge({
    name: "surge_lambda_reserved_concurrency",
    help: "The function's reserved concurrency: the most invocations it runs at once.",
    registers: [registry],
    collect() {
      this.set(fn.reservedConcurrency);
    },
  });
  new Gauge({
    name: "surge_lambda_environments",
    help: "Execution environments by state: idle (warm, waiting) or busy (initialising or invoking).",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const counts = fn.environmentCounts();
      this.labels("idle").set(counts.idle);
      this.labels("busy").set(counts.busy);
    },
  });
  const asyncRetries = new Counter({
    name: "surge_lambda_async_retries_total",
    help: "Asynchronous events scheduled for another try, by reason (throttle, error).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: "surge_lambda_dead_lettered_total",
    help: "Asynchronous events sent to the dead-letter queue after their attempts or their maximum age.",
    registers: [registry],
  });
  for (const reason of ["throttle", "error"] as const) asyncRetries.labels(reason).inc(0);
  if (invoker) {
    new Gauge({
      name: "surge_lambda_async_events_pending",
      help: "Asynchronous events accepted and not yet settled (waiting, backing off, or being invoked).",
      registers: [registry],
      collect() {
        this.set(invoker.pending);
      },
    });
    invoker.on("retry", ({ reason }) => asyncRetries.labels(reason).inc());
    invoker.on("settled", ({ outcome }) => {
      if (outcome.kind === "dead") deadLettered.inc();
    });
  }

  fn.on("report", (report) => {
    invocations.labels(report.start, report.outcome).inc();
    if (report.initDurationMs !== undefined) initDuration.observe(report.initDurationMs / 1000);
    duration.observe(report.durationMs / 1000);
    billed.inc(report.billedDurationMs / 1000);
    if (report.outcome === "error") errors.inc();
    if (report.initializationType === "provisioned-concurrency") provisionedInvocations.inc();
    else if (fn.provisionedConcurrency > 0) spillover.inc();
  });
  fn.on("throttle", () => throttles.inc());
  fn.on("environment-ended", ({ reason }) => environmentsEnded.labels(reason).inc());
  return { registry };
}
