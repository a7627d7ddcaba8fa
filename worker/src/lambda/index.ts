import { join } from "node:path";
import type { OrderStore } from "@surge/core";
import { loadLambdaEnv } from "./config.js";
import { createLogger, PaymentProcessor } from "./core.js";
import { createLambdaHandlers } from "./handler.js";

/**
 * The Lambda function module: `snsHandler` (SNS subscription), `sqsHandler` (SQS event source with
 * ReportBatchItemFailures). The top level runs once per environment, in the measured init phase.
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
