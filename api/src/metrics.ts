import {
  collectProcessMetrics,
  LATENCY_BUCKETS_SECONDS,
  type OrderQueue,
  type OrderStore,
  type PaymentProcessor,
  type QueueDepth,
  registerPaymentMetrics,
} from "@surge/core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { QueueAgeSource } from "./cloudwatch-queue-age.js";

const REJECT_REASONS = [
  "validation",
  "malformed_json",
  "too_large",
  "unsupported_media_type",
  "payment_declined",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Why admission control refused an order (docs/reliability.md#admission-control). */
export const REFUSAL_REASONS = ["limit", "paused", "sync_wait"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * The API's metrics. Request latency by route template (never the raw path),
 * orders in by mode and out by rejection reason, the outbox (in, out, lag),
 * and the queue as seen from the store and from SQS, read at scrape time.
 */
export function createApiMetrics(sources: {
  store: OrderStore;
  queue?: OrderQueue | undefined;
  payments: () => PaymentProcessor | undefined;
  /** SQS's own oldest-message age (CloudWatch, AWS only); without it the gauge is not registered. */
  queueAge?: QueueAgeSource | undefined;
}) {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const httpDuration = new Histogram({
    name: "surge_http_request_duration_seconds",
    help: "HTTP request latency by method, route template and status code.",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const accepted = new Counter({
    name: "surge_orders_accepted_total",
    help: "Orders durably recorded, by mode (sync, async).",
    labelNames: ["mode"] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: "surge_orders_rejected_total",
    help: "Order requests refused, by reason.",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: "surge_orders_refused_total",
    help: "Order requests refused by admission control before anything was recorded, by reason (limit, paused, sync_wait).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  for (const mode of ["sync", "async"] as const) accepted.labels(mode).inc(0);
  for (const reason of REJECT_REASONS) rejected.labels(reason).inc(0);
  for (const reason of REFUSAL_REASONS) refused.labels(reason).inc(0);

  const published = new Counter({
    name: "surge_outbox_published_total",
    help: "Outbox rows published to SNS.",
    registers: [registry],
  });
  const publishErrors = new Counter({
    name: "surge_outbox_publish_errors_total",
    help: "Failed PublishBatch calls (the rows stay in the outbox and are retried).",
    registers: [registry],
  });
  const publishLatency = new Histogram({
    name: "surge_outbox_publish_latency_seconds",
    help: "Time from an order's outbox row being written to SNS accepting it.",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const lastPublish = new Gauge({
    name: "surge_outbox_last_publish_timestamp_seconds",
    help: "Unix time of the last successful publish.",
    registers: [registry],
  });
  new Gauge({
    name: "surge_outbox_pending",
    help: "Outbox rows not yet published.",
    registers: [registry],
    async collect() {
      this.set((await sources.store.outboxStats()).pending);
    },
  });
  new Gauge({
    name: "surge_outbox_oldest_age_seconds",
    help: "Age of the oldest unpublished outbox row.",
    registers: [registry],
    async collect() {
      this.set((await sources.store.outboxStats()).oldestAgeSeconds);
    },
  });
  new Gauge({
    name: "surge_orders",
    help: "Orders in the store by status.",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      const counts = await sources.store.countByStatus();
      for (const [status, n] of Object.entries(counts)) this.labels(status).set(n);
    },
  });
  new Gauge({
    name: "surge_queue_oldest_order_age_seconds",
    help: "Age of the oldest async order not yet paid or dead (exact, from the order store).",
    registers: [registry],
    async collect() {
      this.set(await sources.store.oldestWaitingAgeSeconds());
    },
  });
  new Gauge({
    name: "surge_queue_messages",
    help: "SQS messages by queue (orders, dlq) and state (visible, in_flight, delayed); approximate, as SQS reports them.",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      const queue = sources.queue;
      if (!queue) return;
      const set = (name: string, d: QueueDepth) => {
        this.labels(name, "visible").set(d.visible);
        this.labels(name, "in_flight").set(d.inFlight);
        this.labels(name, "delayed").set(d.delayed);
      };
      const [orders, dlq] = await Promise.allSettled([queue.depth(), queue.depth(queue.dlqUrl)]);
      if (orders.status === "fulfilled") set("orders", orders.value);
      if (dlq.status === "fulfilled") set("dlq", dlq.value);
    },
  });
  const queueAge = sources.queueAge;
  if (queueAge) {
    new Gauge({
      name: "surge_queue_oldest_message_age_seconds",
      help: "SQS ApproximateAgeOfOldestMessage by queue (orders, dlq), from CloudWatch: 1-minute resolution, minutes late.",
      labelNames: ["queue"] as const,
      registers: [registry],
      async collect() {
        const ages = await queueAge.read();
        // A queue without a recent figure is left out: 0 would claim nothing waits.
        this.reset();
        for (const [name, seconds] of Object.entries(ages)) this.labels(name).set(seconds);
      },
    });
  }
  const payment = registerPaymentMetrics(registry, sources.payments);
  return {
    registry,
    httpDuration,
    accepted,
    rejected,
    refused,
    published,
    publishErrors,
    publishLatency,
    lastPublish,
    payment,
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
