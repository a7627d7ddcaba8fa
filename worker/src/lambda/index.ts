import { join } from "node:path";
import type { OrderStore } from "@surge/core";
import { createLogger, PaymentProcessor } from "./core.js";
import { loadLambdaEnv } from "./env.js";
import { createLambdaHandlers } from "./handler.js";

/**
 * The Lambda function module (worker/dist/lambda.js): `snsHandler` for the
 * SNS subscription, `sqsHandler` for an SQS event source mapping with
 * ReportBatchItemFailures.
 *
 * Everything below runs once per execution environment, in the init phase that
 * a cold start's Init Duration measures; warm invocations reuse the store
 * connection and the payment processor. The bundle carries only what runs (no
 * AWS SDK: the platform deletes SQS messages and retries SNS events), so init
 * is mostly Node's own start-up.
 */
const env = loadLambdaEnv();
const log = createLogger(
  { service: "lambda", function: env.AWS_LAMBDA_FUNCTION_NAME, environment: env.AWS_LAMBDA_LOG_STREAM_NAME },
  { level: env.LOG_LEVEL },
);
// Only the store the configuration asks for is loaded: on AWS (PostgreSQL) the SQLite driver, a native
// module the deployment package does not carry, is never touched.
const store: OrderStore = env.DATABASE_URL
  ? new (await import("@surge/core/store/postgres")).PostgresOrderStore(env.DATABASE_URL)
  : new (await import("@surge/core/store/sqlite")).SqliteOrderStore(join(env.DATA_DIR, "surge.db"));
const payments = new PaymentProcessor({
  slots: env.PAYMENT_SLOTS,
  durationMs: env.PAYMENT_DURATION_MS,
  failureRate: env.PAYMENT_FAILURE_RATE,
  processorId: `lambda:${env.AWS_LAMBDA_LOG_STREAM_NAME}`,
  ledger: store,
});

export const { snsHandler, sqsHandler } = createLambdaHandlers({
  store,
  payments,
  log,
  leaseMs: env.LAMBDA_LEASE_MS,
  maxReceiveCount: env.MAX_RECEIVE_COUNT,
});
