/**
 * Errors are values with a class. One function (`isRetryable`) decides what is
 * retried; one place (the API's error handler) formats them for HTTP.
 */

/** A request body or value failed validation. `field` is a dotted path such as `items.0.quantity`. */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
  constructor(
    message: string,
    readonly details: ReadonlyArray<{ field: string; message: string }>,
  ) {
    super(message);
  }
}

/** The payment processor refused the charge. Retried with backoff until the receive limit. */
export class PaymentDeclinedError extends Error {
  override readonly name = "PaymentDeclinedError";
}

/** A transient failure (network, throttling, lease held elsewhere): try again later. */
export class RetryableError extends Error {
  override readonly name: string = "RetryableError";
}

/** Retrying cannot help (poison message, unknown order): dead-letter at once. */
export class NonRetryableError extends Error {
  override readonly name = "NonRetryableError";
}

export function isRetryable(error: unknown): boolean {
  return !(error instanceof NonRetryableError || error instanceof ValidationError);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The payment processor did not answer (an outage), as opposed to declining a
 * card: nothing is wrong with the order, so it is not the order's retry that
 * should be spent — the worker's circuit breaker stops asking for a while.
 */
export class PaymentUnavailableError extends RetryableError {
  override readonly name = "PaymentUnavailableError";
}
