import type { AddressInfo } from "node:net";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { createAwsClients, createLogger, errorMessage, OrderQueue, openOrderStore, resolveTopology } from "@surge/core";
import { createApi } from "./app.js";
import { createScaling } from "./autoscaling/index.js";
import { CloudWatchQueueAge } from "./cloudwatch-queue-age.js";
import { loadEnv } from "./env.js";
import { hardenServer } from "./http/server.js";
import { createLambdaInsights, ProcessingRouter } from "./lambda/index.js";
import { burstsModule } from "./ops/modules/bursts.js";
import { lambdaModule } from "./ops/modules/lambda.js";
import { PublisherThread } from "./outbox/publisher-thread.js";
import { createSchedules } from "./schedule/index.js";

const env = loadEnv();
const log = createLogger({ service: "api" }, { level: env.LOG_LEVEL });
const { sqs, sns } = createAwsClients();
const topology = await resolveTopology(
  { sqs, sns },
  { topic: env.ORDERS_TOPIC, topicArn: env.ORDERS_TOPIC_ARN, queue: env.ORDERS_QUEUE, dlq: env.ORDERS_DLQ },
);
const store = openOrderStore({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
// Bursts may only target this deployment: its public URL, or the address this process listens on.
let ownBaseUrl = env.API_BASE_URL ?? `http://${env.HOST}:${env.PORT}`;
// The worker fleet (FLEET=local|ecs) and its autoscaler, exposed as /ops/fleet and /ops/autoscaling.
const scaling = createScaling(env, { store, queue: new OrderQueue(sqs, topology.queueUrl, topology.dlqUrl), log });
// Sale windows (/ops/schedules): the fleet's floor raised from their start to their end.
const schedules = createSchedules(env, { store, autoscaler: scaling.autoscaler, log });
// The Lambda path (local runtime or AWS function) and where new orders go: workers, Lambda or both.
const lambdaInsights = createLambdaInsights(env);
const processing = new ProcessingRouter(store, { lambdaAvailable: lambdaInsights !== undefined });
const routing = await processing.load();
if (routing.stored && routing.stored !== routing.target) {
  log.warn("processing target needs a Lambda function this deployment lacks: using workers", {
    stored: routing.stored,
  });
}
// SNS calls run on a thread of their own, beside the accept path instead of between its requests.
const publisher = new PublisherThread({ topicArn: topology.topicArn });
const api = createApi({
  store,
  queue: new OrderQueue(sqs, topology.queueUrl, topology.dlqUrl),
  topic: publisher,
  log,
  // OPS_TOKEN ("operator"), ALERT_WEBHOOK_TOKEN ("alerts", read-only), OPS_TOKENS and OPS_READONLY_TOKENS.
  opsTokens: env.opsTokens,
  trustProxy: env.trustProxy,
  rateLimits: {
    orders: { perSecond: env.RATE_LIMIT_ORDERS_PER_SECOND, burst: env.RATE_LIMIT_ORDERS_BURST },
    ops: { perSecond: env.RATE_LIMIT_OPS_PER_SECOND, burst: env.RATE_LIMIT_OPS_BURST },
  },
  payment: { slots: env.PAYMENT_SLOTS, durationMs: env.PAYMENT_DURATION_MS, failureRate: env.PAYMENT_FAILURE_RATE },
  syncMaxWaitMs: env.SYNC_MAX_WAIT_MS,
  outbox: { batchSize: env.OUTBOX_BATCH_SIZE, pollIntervalMs: env.OUTBOX_POLL_INTERVAL_MS },
  republisher: env.REPUBLISH_STALE_AFTER_SECONDS > 0 && {
    staleAfterMs: env.REPUBLISH_STALE_AFTER_SECONDS * 1000,
    intervalMs: env.REPUBLISH_INTERVAL_MS,
  },
  ...(env.CLOUDWATCH_QUEUE_METRICS && {
    queueAge: new CloudWatchQueueAge({
      client: new CloudWatchClient({}),
      queues: { orders: env.ORDERS_QUEUE, dlq: env.ORDERS_DLQ },
      log,
    }),
  }),
  processing,
  opsModules: [
    burstsModule({ ownBaseUrl: () => ownBaseUrl }),
    ...scaling.modules,
    schedules.module,
    lambdaModule({
      insights: lambdaInsights,
      processing,
      deployment: {
        paymentDurationMs: env.PAYMENT_DURATION_MS,
        paymentSlots: env.PAYMENT_SLOTS,
        lambdaMemoryMb: env.LAMBDA_MEMORY_MB,
      },
      desiredTasks: async () => (await scaling.fleet.describe()).desiredCount,
    }),
  ],
});
api.start();
scaling.autoscaler.start();
schedules.scheduler.start();
const server = api.app.listen(env.PORT, env.HOST, () => {
  const { port } = server.address() as AddressInfo;
  const selfHost =
    env.HOST === "0.0.0.0" || env.HOST === "::" ? "127.0.0.1" : env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST;
  ownBaseUrl = env.API_BASE_URL ?? `http://${selfHost}:${port}`;
  log.info("api listening", {
    url: `http://${env.HOST}:${port}`,
    store: store.kind,
    // Who may use /ops/, by label and role: never the tokens themselves.
    opsTokens: env.opsTokens.map((t) => `${t.label} (${t.role})`),
  });
  if (env.opsTokenGenerated) log.info("generated operator token", { opsTokenHint: `${env.OPS_TOKEN.slice(0, 4)}…` });
});
server.keepAliveTimeout = 65_000;
hardenServer(server);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info("stopping", { signal });
  server.close();
  server.closeIdleConnections();
  try {
    await api.close();
    await publisher.close();
    await store.close();
  } catch (error) {
    log.error("shutdown failed", { error: errorMessage(error) });
  }
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// Started by the local stack runner (an IPC channel): if the runner dies, so does this API, never orphaned.
if (process.send) process.on("disconnect", () => void shutdown("stack runner gone"));
