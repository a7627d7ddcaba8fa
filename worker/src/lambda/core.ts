/**
 * The parts of @surge/core the Lambda function runs, module by module: the package index would add
 * prom-client, full zod and the PostgreSQL driver (~80 ms) to every cold start.
 */
export { errorMessage, isRetryable, ValidationError } from "@surge/core/errors";
export { createLogger } from "@surge/core/log";
export { PaymentProcessor } from "@surge/core/payment";
export { processOrder, withHeartbeat } from "@surge/core/process-order";
