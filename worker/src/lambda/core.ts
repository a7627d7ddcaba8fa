/**
 * The parts of @surge/core the Lambda function runs, imported module by module
 * rather than through the package index: the index also loads the metrics
 * (prom-client), the order schemas (full zod) and the PostgreSQL driver, about
 * 80 ms of module loading in every cold start's Init Duration for code the
 * function never calls. The stores are loaded by index.ts, the one the
 * configuration asks for.
 */
export { errorMessage, isRetryable, ValidationError } from "../../../core/src/errors.js";
export { createLogger } from "../../../core/src/log.js";
export { PaymentProcessor } from "../../../core/src/payment.js";
export { processOrder, withHeartbeat } from "../../../core/src/process-order.js";
