import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  errorMessage,
  type Logger,
  type OrderQueue,
  type OrderStore,
  PaymentProcessor,
  registerPaymentMetrics,
  StoredPaymentFaults,
} from "@surge/core";
import type { CircuitBreaker } from "./circuit-breaker.js";
import { OrderConsumer } from "./consumer.js";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.js";

export interface WorkerDeps {
  store: OrderStore;
  queue: OrderQueue;
  log: Logger;
  taskId: string;
  concurrency: number;
  payment: { slots: number; durationMs: number; failureRate: number };
  visibilityTimeoutSeconds?: number;
  waitTimeSeconds?: number;
  maxReceiveCount?: number;
  retryBaseDelaySeconds?: number;
  /** The payment circuit breaker (default: CircuitBreaker's defaults). */
  breaker?: CircuitBreaker;
}

export interface Worker {
  consumer: OrderConsumer;
  payments: PaymentProcessor;
  metrics: WorkerMetrics;
  /** Starts consuming and serves /metrics and /health on `port`; resolves with the bound port. */
  start(port: number, host?: string): Promise<number>;
  /** `drain: false` aborts the long poll in flight instead of letting it return (see OrderConsumer.close). */
  close(deadlineMs: number, options?: { drain?: boolean }): Promise<void>;
}

/** Builds one worker task from its dependencies; main.ts only wires and listens. */
export function createWorker(deps: WorkerDeps): Worker {
  const payments = new PaymentProcessor({
    slots: deps.payment.slots,
    durationMs: deps.payment.durationMs,
    failureRate: deps.payment.failureRate,
    processorId: deps.taskId,
    ledger: deps.store,
    faults: new StoredPaymentFaults(deps.store),
  });
  const consumer = new OrderConsumer(
    { queue: deps.queue, store: deps.store, payments },
    {
      taskId: deps.taskId,
      concurrency: deps.concurrency,
      ...(deps.visibilityTimeoutSeconds !== undefined && { visibilityTimeoutSeconds: deps.visibilityTimeoutSeconds }),
      ...(deps.waitTimeSeconds !== undefined && { waitTimeSeconds: deps.waitTimeSeconds }),
      ...(deps.maxReceiveCount !== undefined && { maxReceiveCount: deps.maxReceiveCount }),
      ...(deps.retryBaseDelaySeconds !== undefined && { retryBaseDelaySeconds: deps.retryBaseDelaySeconds }),
      ...(deps.breaker !== undefined && { breaker: deps.breaker }),
    },
  );
  const base = createWorkerMetrics(() => consumer, deps.taskId);
  const metrics: WorkerMetrics = { ...base, payment: registerPaymentMetrics(base.registry, () => payments) };

  consumer.on("received", ({ count }) => metrics.received.inc(count));
  consumer.on("processed", ({ outcome, seconds, endToEndSeconds, slotWaitSeconds }) => {
    metrics.processed.labels(outcome).inc();
    metrics.processing.labels(outcome).observe(seconds);
    if (outcome === "paid") {
      metrics.payment.payments.labels("charged").inc();
      metrics.lastProcessed.set(Date.now() / 1000);
      if (endToEndSeconds !== undefined) metrics.endToEnd.observe(endToEndSeconds);
      if (slotWaitSeconds !== undefined) metrics.payment.slotWait.observe(slotWaitSeconds);
    }
    if (outcome === "declined") metrics.payment.payments.labels("declined").inc();
    if (outcome === "unavailable") metrics.payment.payments.labels("unavailable").inc();
  });
  consumer.on("error", ({ error, where }) => deps.log.warn(where, { error: errorMessage(error) }));
  consumer.on("released", ({ count }) => deps.log.info("handed back what the last poll brought", { messages: count }));
  consumer.breaker.on("change", ({ from, to }) => {
    metrics.circuitTransitions.labels(to).inc();
    deps.log.warn("payment circuit breaker", { from, to });
  });

  let server: Server | undefined;
  return {
    consumer,
    payments,
    metrics,
    async start(port, host = "0.0.0.0") {
      server = createServer((req, res) => {
        if (req.url === "/metrics") {
          metrics.registry
            .metrics()
            .then((text) => {
              res.writeHead(200, { "content-type": metrics.registry.contentType });
              res.end(text);
            })
            .catch((error) => {
              res.writeHead(500).end(errorMessage(error));
            });
          return;
        }
        if (req.url === "/health") {
          const ok = consumer.isRunning;
          res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
          res.end(JSON.stringify({ status: ok ? "ok" : "stopping", inFlight: consumer.inFlight }));
          return;
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve, reject) => {
        server?.once("error", reject);
        server?.listen(port, host, resolve);
      });
      consumer.start();
      return (server.address() as AddressInfo).port;
    },
    async close(deadlineMs, options) {
      await consumer.close(deadlineMs, options);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}
