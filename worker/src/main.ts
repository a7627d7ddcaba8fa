import { createAwsClients, createLogger, errorMessage, OrderQueue, openOrderStore, resolveTopology } from "@surge/core";
import { createWorker } from "./app.js";
import { loadEnv } from "./env.js";

/**
 * One worker task. The local supervisor runs it as a child process (with an
 * IPC channel for live concurrency changes); ECS runs it as a container.
 */
const env = loadEnv();
const log = createLogger({ service: "worker", task: env.TASK_ID }, { level: env.LOG_LEVEL });
const { sqs, sns } = createAwsClients();
const topology = await resolveTopology(
  { sqs, sns },
  { topic: env.ORDERS_TOPIC, topicArn: env.ORDERS_TOPIC_ARN, queue: env.ORDERS_QUEUE, dlq: env.ORDERS_DLQ },
);
const store = openOrderStore({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
const worker = createWorker({
  store,
  queue: new OrderQueue(sqs, topology.queueUrl, topology.dlqUrl),
  log,
  taskId: env.TASK_ID,
  concurrency: env.WORKER_CONCURRENCY,
  payment: { slots: env.PAYMENT_SLOTS, durationMs: env.PAYMENT_DURATION_MS, failureRate: env.PAYMENT_FAILURE_RATE },
  visibilityTimeoutSeconds: env.VISIBILITY_TIMEOUT_SECONDS,
  waitTimeSeconds: env.WAIT_TIME_SECONDS,
  maxReceiveCount: env.MAX_RECEIVE_COUNT,
  retryBaseDelaySeconds: env.RETRY_BASE_DELAY_SECONDS,
});
const metricsPort = await worker.start(env.METRICS_PORT, env.METRICS_HOST);
log.info("worker started", { concurrency: env.WORKER_CONCURRENCY, metricsPort, queueUrl: topology.queueUrl });

// The local supervisor talks to its tasks over the IPC channel: stats out, live settings in.
if (process.send) {
  const send = (msg: object) => process.connected && process.send?.(msg);
  send({ type: "ready", metricsPort, pid: process.pid });
  const stats = setInterval(
    () =>
      send({
        type: "stats",
        inFlight: worker.consumer.inFlight,
        processed: worker.consumer.processedTotal,
        circuit: worker.consumer.breaker.state,
      }),
    1000,
  );
  stats.unref();
  process.on("message", (msg: { type?: string; concurrency?: number }) => {
    if (msg?.type === "set-concurrency" && typeof msg.concurrency === "number") {
      try {
        worker.consumer.concurrency = msg.concurrency;
        log.info("concurrency changed", { concurrency: msg.concurrency });
      } catch (error) {
        log.warn("concurrency rejected", { error: errorMessage(error) });
      }
    }
  });
  // The supervisor going away (its process killed) means this task is orphaned: stop too.
  process.on("disconnect", () => void shutdown("supervisor disconnected", false));
}

let stopping = false;
/**
 * SIGTERM (ECS stopping the task, the supervisor scaling in) drains: the long poll in flight returns
 * and what it brought goes straight back to the queue. SIGINT (Ctrl-C, the whole local stack
 * stopping) aborts the poll at once: quicker, and the queue is going away with the stack.
 */
async function shutdown(why: string, drain = true): Promise<void> {
  if (stopping) {
    // A second signal, SIGINT: stop waiting for the poll (the first call exits the process).
    if (!drain) void worker.close(env.SHUTDOWN_DEADLINE_MS, { drain: false });
    return;
  }
  stopping = true;
  log.info("stopping", { why, inFlight: worker.consumer.inFlight, drain });
  try {
    await worker.close(env.SHUTDOWN_DEADLINE_MS, { drain });
  } catch (error) {
    log.error("close failed", { error: errorMessage(error) });
  }
  try {
    await store.close();
  } catch (error) {
    log.error("store close failed", { error: errorMessage(error) });
  }
  log.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT", false));
