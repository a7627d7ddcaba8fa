import { apiEnvSchema } from "@surge/api/env";
import { webEnvSchema } from "@surge/web/env";
import { workerEnvSchema } from "@surge/worker/env";
import { lambdaEnvSchema } from "@surge/worker/lambda-env";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type { StageConfig } from "./config.js";
import type { EnvKey, ServiceEnv } from "./service-env.js";
import { LONG_POLL_SECONDS } from "./sizing.js";

export { apiEnvSchema, lambdaEnvSchema, webEnvSchema, workerEnvSchema };

type ApiEnvKey = EnvKey<typeof apiEnvSchema>;
type WorkerEnvKey = EnvKey<typeof workerEnvSchema>;
type LambdaEnvKey = EnvKey<typeof lambdaEnvSchema>;
type WebEnvKey = EnvKey<typeof webEnvSchema>;

/** Where the worker serves /metrics and /health inside its task. */
export const WORKER_METRICS_PORT = 9400;
/** Where the API listens inside its task. */
export const API_PORT = 8080;
/** Where the console listens inside its task. */
export const WEB_PORT = 3000;
/** The worker container's name: the API's ECS fleet finds WORKER_CONCURRENCY in it (ECS_WORKER_CONTAINER). */
export const WORKER_CONTAINER_NAME = "worker";

/** What the stack hands the environment builders: names and ARNs (CloudFormation tokens) and secrets. */
interface Wiring {
  config: StageConfig;
  topicName: string;
  topicArn: string;
  queueName: string;
  deadLetterQueueName: string;
  visibilityTimeoutSeconds: number;
  databaseUrl: ecs.Secret;
}

type SharedKey = ApiEnvKey & WorkerEnvKey;

/** The variables every order-handling service shares (core's sharedEnvShape). */
function shared(w: Wiring): Partial<Record<SharedKey, string>> {
  return {
    PAYMENT_DURATION_MS: String(w.config.paymentDurationMs),
    PAYMENT_SLOTS: String(w.config.paymentSlots),
    PAYMENT_FAILURE_RATE: String(w.config.paymentFailureRate),
    ORDERS_TOPIC: w.topicName,
    // The ARN, so no service ever calls CreateTopic to find it (and no role needs to).
    ORDERS_TOPIC_ARN: w.topicArn,
    ORDERS_QUEUE: w.queueName,
    ORDERS_DLQ: w.deadLetterQueueName,
    // The worker dead-letters an order itself at this receive count; SQS's redrive backs it up.
    MAX_RECEIVE_COUNT: String(w.config.maxReceiveCount),
    LOG_LEVEL: w.config.logLevel,
    WORKER_CONCURRENCY: String(w.config.workerConcurrency),
  };
}

const sharedDefaulted: Partial<Record<SharedKey, string>> = {
  DATA_DIR: "only the embedded SQLite store uses it; on AWS DATABASE_URL selects PostgreSQL",
};

/** A worker task's env: worker/src/env.ts parses exactly these names. */
export function workerEnvironment(w: Wiring): ServiceEnv<WorkerEnvKey> {
  return {
    environment: {
      ...shared(w),
      // The queue's own visibility timeout: the heartbeat extends by it, the store lease lasts as long.
      VISIBILITY_TIMEOUT_SECONDS: String(w.visibilityTimeoutSeconds),
      WAIT_TIME_SECONDS: String(LONG_POLL_SECONDS),
      // The stopTimeout is derived from this value (sizing.ts), so the two cannot drift apart.
      SHUTDOWN_DEADLINE_MS: String(w.config.shutdownDeadlineMs),
      METRICS_PORT: String(WORKER_METRICS_PORT),
      METRICS_HOST: "0.0.0.0",
    },
    secrets: { DATABASE_URL: w.databaseUrl },
    defaulted: {
      ...sharedDefaulted,
      TASK_ID: "each task names itself after its hostname and pid, unique per Fargate task",
      RETRY_BASE_DELAY_SECONDS: "the worker's backoff after a declined payment is not a deployment choice",
    },
  };
}

interface ApiWiring extends Wiring {
  opsToken: ecs.Secret;
  /** The load balancer's URL: the only target a burst may have. */
  publicBaseUrl: string;
  clusterName: string;
  workerServiceName: string;
  targetBacklogPerTask: number;
  lambdaFunctionName: string;
  lambdaLogGroupName: string;
}

/** An API task's env: api/src/env.ts parses exactly these names. */
export function apiEnvironment(w: ApiWiring): ServiceEnv<ApiEnvKey> {
  const c = w.config;
  return {
    environment: {
      ...shared(w),
      // Behind the load balancer: listen on the task's interface, not loopback.
      HOST: "0.0.0.0",
      PORT: String(API_PORT),
      API_BASE_URL: w.publicBaseUrl,
      WORKER_TASKS: String(c.workerMinTasks),
      MAX_WORKER_TASKS: String(c.workerMaxTasks),
      FLEET: "ecs",
      ECS_CLUSTER: w.clusterName,
      ECS_SERVICE: w.workerServiceName,
      ECS_WORKER_CONTAINER: WORKER_CONTAINER_NAME,
      // The policy the ops plane shows until an operator stores another: the one this stack deploys.
      AUTOSCALING_ENABLED: "true",
      AUTOSCALING_MIN_TASKS: String(c.workerMinTasks),
      AUTOSCALING_MAX_TASKS: String(c.workerMaxTasks),
      AUTOSCALING_TARGET_BACKLOG_PER_TASK: String(w.targetBacklogPerTask),
      AUTOSCALING_SCALE_OUT_COOLDOWN_SECONDS: String(c.scaleOutCooldownSeconds),
      AUTOSCALING_SCALE_IN_COOLDOWN_SECONDS: String(c.scaleInCooldownSeconds),
      // The queue's oldest-message age comes from CloudWatch on AWS (the emulator has none).
      CLOUDWATCH_QUEUE_METRICS: "true",
      // /ops/lambda reads the function's metrics and REPORT lines from CloudWatch.
      LAMBDA_FUNCTION_NAME: w.lambdaFunctionName,
      LAMBDA_LOG_GROUP: w.lambdaLogGroupName,
      LAMBDA_MEMORY_MB: String(c.lambdaMemoryMiB),
      // Only the load balancer reaches a task, from the VPC's private addresses: believe its
      // X-Forwarded-For, so per-client rate limits see customers, not the balancer.
      TRUST_PROXY: "uniquelocal",
    },
    secrets: { DATABASE_URL: w.databaseUrl, OPS_TOKEN: w.opsToken },
    defaulted: {
      ...sharedDefaulted,
      OUTBOX_BATCH_SIZE: "the relay's batch is tuned in code for SNS PublishBatch, not per deployment",
      OUTBOX_POLL_INTERVAL_MS: "the relay is woken on every accepted order; the poll is only a fallback",
      FLEET_CONTROL_URL: "only the local fleet (FLEET=local) talks to the stack runner",
      FLEET_CONTROL_TOKEN: "only the local fleet (FLEET=local) talks to the stack runner",
      AUTOSCALING_EVALUATION_INTERVAL_MS: "only the local autoscaler evaluates; on AWS Application Auto Scaling does",
      LAMBDA_CONTROL_URL: "only the local Lambda runtime has a control endpoint",
      ALERT_WEBHOOK_TOKEN:
        "no Grafana runs in this stack (CloudWatch alarms page through SNS); an external Grafana uses OPS_TOKEN",
      OPS_TOKENS: "one operator token (OPS_TOKEN); add named ones as secrets when more people operate",
      OPS_READONLY_TOKENS: "no read-only consumers in this stack; add them as secrets when there are",
      RATE_LIMIT_ORDERS_PER_SECOND: "the API's per-client default is far above the study's 48 orders/s",
      RATE_LIMIT_ORDERS_BURST: "the API's per-client default",
      RATE_LIMIT_OPS_PER_SECOND: "the API's per-client default for the ops plane",
      RATE_LIMIT_OPS_BURST: "the API's per-client default for the ops plane",
      REPUBLISH_STALE_AFTER_SECONDS: "SQS keeps messages; the sweep's default only acts when the queue lost some",
      REPUBLISH_INTERVAL_MS: "the stale-order sweep's own default",
      SYNC_MAX_WAIT_MS:
        "unset: a synchronous order waits for a slot as the study's did; an operator sets it for a sale",
    },
  };
}

interface WebWiring {
  /** The API as the console's server reaches it (inside the VPC). */
  apiUrl: string;
  /** The load balancer's URL: the console's public origin. */
  publicUrl: string;
  https: boolean;
  opsToken: ecs.Secret;
  sessionSecret: ecs.Secret;
}

/**
 * The console's env: web/src/env.ts parses these names. Next's standalone server
 * also reads PORT and HOSTNAME, which the Dockerfile's web target sets (3000, 0.0.0.0).
 */
export function webEnvironment(w: WebWiring): ServiceEnv<WebEnvKey> {
  return {
    environment: {
      SURGE_API_URL: w.apiUrl,
      CONSOLE_ORIGIN: w.publicUrl,
      // TLS ends at the load balancer, which talks plain HTTP to the console: "auto" would see http.
      COOKIE_SECURE: w.https ? "true" : "false",
    },
    secrets: {
      // The console server records the live timeline from the start, not from the first sign-in.
      SURGE_OPS_TOKEN: w.opsToken,
      // One key for every console task and across restarts, so a deploy does not sign everyone out.
      SESSION_SECRET: w.sessionSecret,
    },
    defaulted: {
      SESSION_TTL_HOURS: "a 12-hour sign-in (an on-call shift) is the console's own choice",
      TIMELINE_SECONDS: "the console keeps an hour of 1 s points by its own default",
      API_TIMEOUT_MS: "the console's own per-request timeout towards the API",
      GRAFANA_URL: "no Grafana runs in this stack; set it here when one does",
      PROMETHEUS_URL: "no Prometheus a browser can reach runs in this stack: alerts show no source link",
    },
  };
}

/** Variables Node.js itself reads in the Lambda runtime, outside any env.ts. */
export const LAMBDA_RUNTIME_ENV = {
  // Lambda's Node.js runtimes ship Amazon RDS's CAs here but, since Node 18, do not load them by default.
  NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem",
} as const;

interface LambdaWiring {
  config: StageConfig;
  /** DATABASE_URL as a value (a deploy-time dynamic reference): Lambda cannot inject secrets. */
  databaseUrlValue: string;
  /** The function's timeout: the natural bound of the lease an invocation holds on its order. */
  timeoutSeconds: number;
}

/** The Lambda order processor's env: worker/src/lambda/env.ts parses exactly these names. */
export function lambdaEnvironment(w: LambdaWiring): ServiceEnv<LambdaEnvKey> {
  const c = w.config;
  return {
    environment: {
      PAYMENT_DURATION_MS: String(c.paymentDurationMs),
      PAYMENT_SLOTS: String(c.paymentSlots),
      PAYMENT_FAILURE_RATE: String(c.paymentFailureRate),
      MAX_RECEIVE_COUNT: String(c.maxReceiveCount),
      LOG_LEVEL: c.logLevel,
      DATABASE_URL: w.databaseUrlValue,
      LAMBDA_LEASE_MS: String(w.timeoutSeconds * 1000),
    },
    secrets: {},
    defaulted: {
      DATA_DIR: "only the embedded SQLite store uses it; on AWS DATABASE_URL selects PostgreSQL",
      AWS_LAMBDA_FUNCTION_NAME: "set by the Lambda runtime (a reserved variable)",
      AWS_LAMBDA_LOG_STREAM_NAME: "set by the Lambda runtime (a reserved variable)",
    },
    runtime: { ...LAMBDA_RUNTIME_ENV },
  };
}
