import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from "prom-client";
import type { PaymentProcessor } from "./payment.js";

// Metric names shared by more than one deployable. Prefix `surge_`, base units
// in the name, `_total` on counters, no unbounded labels (never an order id).

/** Latency buckets in seconds: from a 1 ms accept to a 20-minute backlog drain. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200,
];

/**
 * prom-client's process and Node.js metrics, minus the three gauges it names
 * `*_total` (active handles, requests, resources), which break the convention
 * that `_total` means a counter; their per-type `nodejs_active_*` gauges stay.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name);
  }
}

/** Payment slot gauges read at scrape time, and the slot-wait histogram the caller observes. */
export function registerPaymentMetrics(registry: Registry, processor: () => PaymentProcessor | undefined) {
  new Gauge({
    name: "surge_payment_slots",
    help: "Payment slots this process's payment processor allows at once (PAYMENT_SLOTS).",
    registers: [registry],
    collect() {
      this.set(processor()?.slots ?? 0);
    },
  });
  new Gauge({
    name: "surge_payment_slots_in_use",
    help: "Payments running now in this process.",
    registers: [registry],
    collect() {
      this.set(processor()?.slotsInUse ?? 0);
    },
  });
  new Gauge({
    name: "surge_payment_waiters",
    help: "Orders waiting in FIFO order for a free payment slot in this process.",
    registers: [registry],
    collect() {
      this.set(processor()?.waiting ?? 0);
    },
  });
  const slotWait = new Histogram({
    name: "surge_payment_slot_wait_seconds",
    help: "Time an order waited for a payment slot.",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const payments = new Counter({
    name: "surge_payments_total",
    help: "Payment attempts by result (charged, replayed idempotently, declined, unavailable: processor down).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  for (const result of ["charged", "replayed", "declined", "unavailable"] as const) payments.labels(result).inc(0);
  return { slotWait, payments };
}
