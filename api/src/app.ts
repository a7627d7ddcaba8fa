import {
  type Logger,
  type OrderPublisher,
  type OrderQueue,
  type OrderStore,
  PaymentProcessor,
  StoredPaymentFaults,
} from "@surge/core";
import express, { type Express } from "express";
import type { QueueAgeSource } from "./cloudwatch-queue-age.js";
import { type RateLimit, rateLimit, securityHeaders } from "./http/security.js";
import { errorHandler, HttpError, requestMetrics } from "./http/server.js";
import type { ProcessingRouter } from "./lambda/processing.js";
import { type ApiMetrics, createApiMetrics } from "./metrics.js";
import { AuditLog } from "./ops/audit.js";
import type { OpsModule } from "./ops/context.js";
import { alertsModule } from "./ops/modules/alerts.js";
import { faultsModule } from "./ops/modules/faults.js";
import { AdmissionControl, intakeModule } from "./ops/modules/intake.js";
import { publishFaultsModule } from "./ops/modules/publish-faults.js";
import { queueModule } from "./ops/modules/queue.js";
import { type OpsToken, opsRouter } from "./ops/router.js";
import { OpsState } from "./ops/state.js";
import { FaultInjectingTopic } from "./outbox/fault-injecting-topic.js";
import { OutboxRelay, type OutboxRelayOptions } from "./outbox/relay.js";
import { type RepublisherOptions, StaleOrderRepublisher } from "./outbox/republisher.js";
import { healthRoutes } from "./routes/health.js";
import { orderRoutes } from "./routes/orders.js";

export interface ApiDeps {
  store: OrderStore;
  /** The orders queue and its DLQ (depth for /health and /metrics). */
  queue?: OrderQueue | undefined;
  /**
   * Where async orders are published (an OrderTopic, or a PublisherThread in front of one); without
   * it the outbox only fills (tests of the accept path).
   */
  topic?: OrderPublisher | undefined;
  log: Logger;
  /** Operator tokens with their labels (the audit log's "who") and roles. */
  opsTokens: ReadonlyArray<OpsToken>;
  /** Ops modules (fleet, autoscaling, bursts, lambda…) mounted under /ops. */
  opsModules?: ReadonlyArray<OpsModule>;
  payment: { slots: number; durationMs: number; failureRate: number };
  /** SYNC_MAX_WAIT_MS: POST /orders/sync answers 503 rather than wait longer for a slot. Absent: no bound. */
  syncMaxWaitMs?: number | undefined;
  /** Lease holder name for synchronous payments. Default `api-<pid>`. */
  holder?: string;
  outbox?: OutboxRelayOptions;
  /** Where each published order is processed (workers, Lambda, both): PUT /ops/processing sets it. */
  processing?: ProcessingRouter | undefined;
  /** SQS's oldest-message age from CloudWatch (AWS): exported beside the store's exact age. */
  queueAge?: QueueAgeSource;
  /** Per-client rate limits on order intake and the ops plane (RATE_LIMIT_*). Absent: none. */
  rateLimits?: { orders?: RateLimit; ops?: RateLimit };
  /** Express's `trust proxy`: whose X-Forwarded-For names the client (TRUST_PROXY). Default "loopback". */
  trustProxy?: boolean | number | string;
  /**
   * Store-driven recovery of orders whose message the broker lost (REPUBLISH_*). On by default
   * wherever there is a queue and a topic; `false` turns it off.
   */
  republisher?: RepublisherOptions | false;
}

export interface Api {
  app: Express;
  metrics: ApiMetrics;
  payments: PaymentProcessor;
  relay: OutboxRelay | undefined;
  republisher: StaleOrderRepublisher | undefined;
  state: OpsState;
  audit: AuditLog;
  /** Starts background work (the outbox relay, the stale-order republisher). */
  start(): void;
  close(): Promise<void>;
}

/** Builds the API from its dependencies; main.ts only wires and listens. */
export function createApi(deps: ApiDeps): Api {
  const holder = deps.holder ?? `api-${process.pid}`;
  const payments = new PaymentProcessor({
    ...deps.payment,
    processorId: holder,
    ledger: deps.store,
    faults: new StoredPaymentFaults(deps.store),
  });
  const metrics = createApiMetrics({
    store: deps.store,
    queue: deps.queue,
    payments: () => payments,
    queueAge: deps.queueAge,
  });
  // Admission control (PUT /ops/intake): open until an operator limits or pauses intake.
  const admission = new AdmissionControl({ store: deps.store, payments, metrics, syncMaxWaitMs: deps.syncMaxWaitMs });
  const relay = deps.topic
    ? new OutboxRelay(
        {
          store: deps.store,
          // The fault-injection seam: PUT /ops/faults/publish makes publishes fail as an SNS outage would.
          topic: new FaultInjectingTopic(deps.topic, deps.store),
          log: deps.log,
          metrics,
          route: deps.processing ? () => deps.processing?.next() ?? "workers" : undefined,
        },
        deps.outbox,
      )
    : undefined;

  const republisher =
    deps.queue && deps.topic && deps.republisher !== false
      ? new StaleOrderRepublisher(
          {
            store: deps.store,
            queue: deps.queue,
            log: deps.log,
            registry: metrics.registry,
            onRepublished: () => relay?.notify(),
          },
          deps.republisher,
        )
      : undefined;

  const app = express();
  app.disable("x-powered-by");
  // Every answer is `cache-control: no-store`, so no client ever revalidates: an ETag would be a
  // SHA-1 of each body computed for nothing (1.5% of the accept path's CPU).
  app.disable("etag");
  app.set("trust proxy", deps.trustProxy ?? "loopback");
  app.use(securityHeaders);
  app.use(requestMetrics(metrics));
  const ordersLimit = deps.rateLimits?.orders && rateLimit("order intake", deps.rateLimits.orders);
  if (ordersLimit)
    app.use("/orders", (req, res, next) => (req.method === "POST" ? ordersLimit(req, res, next) : next()));
  // Before the token check: guessing tokens is rate limited too.
  if (deps.rateLimits?.ops) app.use("/ops", rateLimit("the ops plane", deps.rateLimits.ops));
  app.use(
    orderRoutes({
      store: deps.store,
      payments,
      metrics,
      holder,
      onAccepted: () => relay?.notify(),
      admission,
    }),
  );
  app.use(healthRoutes({ store: deps.store, queue: deps.queue, registry: metrics.registry }));

  const state = new OpsState();
  const audit = new AuditLog(deps.store);
  // POST /ops/alerts is part of the ops contract (Grafana's contact point posts to it): always mounted.
  const modules = [
    alertsModule(deps.store),
    faultsModule(),
    publishFaultsModule(),
    intakeModule(admission),
    // The queue, its DLQ, redrive and purge: wherever there is a queue.
    ...(deps.queue
      ? [queueModule({ queue: deps.queue, store: deps.store, log: deps.log, onRequeued: () => relay?.notify() })]
      : []),
    ...(deps.opsModules ?? []),
  ];
  app.use(
    "/ops",
    opsRouter({ store: deps.store, queue: deps.queue, log: deps.log, metrics, audit, state }, deps.opsTokens, modules),
  );

  app.use((req, _res, next) => next(new HttpError(404, `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.log, metrics));

  return {
    app,
    metrics,
    payments,
    relay,
    republisher,
    state,
    audit,
    start: () => {
      relay?.start();
      republisher?.start();
    },
    close: async () => {
      await republisher?.close();
      await relay?.close();
      for (const module of modules) await module.close?.();
    },
  };
}
