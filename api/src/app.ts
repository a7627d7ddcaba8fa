import { type Logger, type OrderQueue, type OrderStore, type OrderTopic, PaymentProcessor } from "@surge/core";
import express, { type Express, Router } from "express";
import { errorHandler, HttpError, requestMetrics, requireBearer } from "./http.js";
import { type ApiMetrics, createApiMetrics } from "./metrics.js";
import { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay.js";
import { healthRoutes } from "./routes/health.js";
import { orderRoutes } from "./routes/orders.js";

export interface ApiDeps {
  store: OrderStore;
  /** The orders queue and its DLQ (depth for /health and /metrics). */
  queue?: OrderQueue | undefined;
  /** Where async orders are published; without it the outbox only fills (tests of the accept path). */
  topic?: OrderTopic | undefined;
  log: Logger;
  opsToken: string;
  payment: { slots: number; durationMs: number; failureRate: number };
  /** Lease holder name for synchronous payments. Default `api-<pid>`. */
  holder?: string;
  outbox?: OutboxRelayOptions;
}

export interface Api {
  app: Express;
  metrics: ApiMetrics;
  payments: PaymentProcessor;
  relay: OutboxRelay | undefined;
  /** Starts background work (the outbox relay). */
  start(): void;
  close(): Promise<void>;
}

/** Builds the API from its dependencies; main.ts only wires and listens. */
export function createApi(deps: ApiDeps): Api {
  const holder = deps.holder ?? `api-${process.pid}`;
  const payments = new PaymentProcessor({ ...deps.payment, processorId: holder, ledger: deps.store });
  const metrics = createApiMetrics({ store: deps.store, queue: deps.queue, payments: () => payments });
  const relay = deps.topic
    ? new OutboxRelay({ store: deps.store, topic: deps.topic, log: deps.log, metrics }, deps.outbox)
    : undefined;

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(requestMetrics(metrics));
  app.use(
    orderRoutes({
      store: deps.store,
      payments,
      metrics,
      holder,
      onAccepted: () => relay?.notify(),
    }),
  );
  app.use(healthRoutes({ store: deps.store, queue: deps.queue, registry: metrics.registry }));

  const ops = Router();
  ops.use(requireBearer(deps.opsToken));
  ops.get("/orders/reconcile", async (_req, res) => {
    const r = await deps.store.reconcile();
    const ok = r.paidTwice === 0 && r.paidWithoutCharge === 0 && r.deadUnexplained === 0;
    res.json({ ok, ...r });
  });
  app.use("/ops", ops);

  app.use((req, _res, next) => next(new HttpError(404, `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.log, metrics));

  return {
    app,
    metrics,
    payments,
    relay,
    start: () => relay?.start(),
    close: async () => {
      await relay?.close();
    },
  };
}
