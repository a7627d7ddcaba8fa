import { collectProcessMetrics, LATENCY_BUCKETS_SECONDS, type registerPaymentMetrics } from "@surge/core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { CIRCUIT_STATE_VALUE } from "./circuit-breaker.js";
import type { OrderConsumer, ProcessedOutcome } from "./consumer.js";

const OUTCOMES: ProcessedOutcome[] = [
  "paid",
  "duplicate",
  "declined",
  "unavailable",
  "retry",
  "deferred",
  "dead_lettered",
  "released",
];

/** A worker task's metrics: items in (received), in progress (in flight), out (processed by outcome). */
export function createWorkerMetrics(consumer: () => OrderConsumer | undefined, taskId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ task: taskId });
  collectProcessMetrics(registry);
  const received = new Counter({
    name: "surge_worker_messages_received_total",
    help: "Messages received from the orders queue.",
    registers: [registry],
  });
  const processed = new Counter({
    name: "surge_worker_orders_processed_total",
    help: "Orders handled by outcome: paid, duplicate (already paid), declined, retry, deferred, dead_lettered, released.",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  for (const outcome of OUTCOMES) processed.labels(outcome).inc(0);
  const processing = new Histogram({
    name: "surge_worker_processing_seconds",
    help: "Time from receiving an order message to settling it, slot wait included.",
    labelNames: ["outcome"] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const endToEnd = new Histogram({
    name: "surge_order_end_to_end_seconds",
    help: "Time from the order's 202 to its payment.",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const lastProcessed = new Gauge({
    name: "surge_worker_last_processed_timestamp_seconds",
    help: "Unix time of the last order this task paid.",
    registers: [registry],
  });
  new Gauge({
    name: "surge_worker_orders_in_flight",
    help: "Orders this task holds now (waiting for a slot or paying).",
    registers: [registry],
    collect() {
      this.set(consumer()?.inFlight ?? 0);
    },
  });
  new Gauge({
    name: "surge_worker_concurrency",
    help: "Orders this task may hold at once (WORKER_CONCURRENCY).",
    registers: [registry],
    collect() {
      this.set(consumer()?.concurrency ?? 0);
    },
  });
  new Gauge({
    name: "surge_worker_circuit_state",
    help: "The payment circuit breaker: 0 closed, 1 open (taking no orders), 2 half-open (one probe).",
    registers: [registry],
    collect() {
      const state = consumer()?.breaker.state;
      this.set(state ? CIRCUIT_STATE_VALUE[state] : 0);
    },
  });
  const circuitTransitions = new Counter({
    name: "surge_worker_circuit_transitions_total",
    help: "Payment circuit breaker state changes, by the state entered.",
    labelNames: ["state"] as const,
    registers: [registry],
  });
  for (const state of ["closed", "open", "half-open"] as const) circuitTransitions.labels(state).inc(0);
  return { registry, circuitTransitions, received, processed, processing, endToEnd, lastProcessed };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics> & {
  payment: ReturnType<typeof registerPaymentMetrics>;
};
