import { hostname } from "node:os";
import { intVar, parseEnv, sharedEnvShape, TASK_CONCURRENCY_MAX, TASK_CONCURRENCY_MIN } from "@surge/core";
import { z } from "zod";

const schema = z.object({
  ...sharedEnvShape,
  /** Orders one task works on at once. */
  WORKER_CONCURRENCY: intVar(5, TASK_CONCURRENCY_MIN, TASK_CONCURRENCY_MAX),
  /** Names this task in leases, charges, logs and metrics. */
  TASK_ID: z.string().min(1).max(64).default(`${hostname()}-${process.pid}`),
  /** The orders queue's visibility timeout, in seconds; the heartbeat extends by this much. */
  VISIBILITY_TIMEOUT_SECONDS: intVar(30, 1, 43_200),
  /** Long-poll wait, in seconds. */
  WAIT_TIME_SECONDS: intVar(20, 0, 20),
  /** Time in-flight payments get to finish after SIGTERM before they are handed back, in ms. */
  SHUTDOWN_DEADLINE_MS: intVar(25_000, 0, 600_000),
  /** Port of the task's /metrics and /health (0 = any free port, reported to the supervisor). */
  METRICS_PORT: intVar(9400, 0, 65_535),
  METRICS_HOST: z.string().default("0.0.0.0"),
  /** First retry delay after a declined payment, in seconds. */
  RETRY_BASE_DELAY_SECONDS: intVar(2, 0, 900),
});

type WorkerEnv = z.infer<typeof schema>;

export function loadEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return parseEnv(schema, env);
}

/** The schema itself, for the CDK app: the env a deployed worker task gets is checked against it. */
export { schema as workerEnvSchema };
