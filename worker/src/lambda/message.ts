import { ValidationError } from "./core.js";

export interface OrderMessage {
  orderId: string;
  acceptedAt: string;
}

const notAnOrder = (field: string) =>
  new ValidationError("message is not an order message", [{ field, message: "invalid" }]);

/**
 * core's parseOrderMessage without zod (two string fields do not need its ~3 ms of module load
 * at init): the same bounds, the same errors, extra fields dropped. A test holds the two parsers
 * to the same answers.
 */
export function parseOrderMessage(body: string | undefined): OrderMessage {
  let value: unknown;
  try {
    value = JSON.parse(body ?? "");
  } catch {
    throw new ValidationError("message body is not JSON", [{ field: "body", message: "not JSON" }]);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw notAnOrder("body");
  const { orderId, acceptedAt } = value as Record<string, unknown>;
  if (typeof orderId !== "string" || orderId.length < 1 || orderId.length > 64) throw notAnOrder("orderId");
  if (typeof acceptedAt !== "string") throw notAnOrder("acceptedAt");
  return { orderId, acceptedAt };
}
