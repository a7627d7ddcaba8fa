/**
 * The parts of @surge/core the Lambda function runs, imported module by module
 * rather than through the package index: the index also loads the metrics
 * (prom-client), the order schemas (full zod) and the PostgreSQL driver, about
 * 80 ms of module loading in every cold start's Init Duration for code the
 * function never calls. The stores are loaded by index.ts, the one the
 * configuration asks for.
 */
export { errorMessage, isRetryable, ValidationError } from "@surge/core/errors";
export { createLogger } from "@surge/core/log";
export { PaymentProcessor } from "@surge/core/payment";
export { processOrder, withHeartbeat } from "@surge/core/process-order";
