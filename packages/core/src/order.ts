import { z } from "zod";
import { ValidationError } from "./errors.js";
import { parseOrThrow } from "./validation.js";

/** The largest accepted order body, in bytes (the contract's 64 KiB). */
export const MAX_ORDER_BODY_BYTES = 64 * 1024;

const ORDER_STATUSES = ["queued", "processing", "paid", "failed", "dead"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** A UTF-16 surrogate without its pair: not encodable as UTF-8, so a store would replace it with U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Text a store keeps exactly: PostgreSQL's TEXT refuses NUL (a 500, found by the bad-input
 * properties), and both stores turn lone surrogates into U+FFFD, so two different idempotency
 * keys would collide and replay another order. Refused at the door, naming the field.
 */
const storableText = (maxLength: number) =>
  z
    .string()
    .min(1)
    .max(maxLength)
    .refine((s) => !s.includes("\u0000") && !LONE_SURROGATE.test(s), "must be well-formed Unicode without NUL");

/**
 * A 400's message for a field: "required" when absent, then what is expected, the same words
 * whatever was wrong ("items: required, 1 to 50 items", never zod's "expected array, received undefined").
 */
const expects = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? `required, ${what}` : what),
});

const MAX_ORDER_ITEMS = 50;

const orderItemSchema = z.strictObject({
  productId: storableText(128),
  quantity: z.int(expects("a whole number from 1 to 100")).min(1, "1 to 100").max(100, "1 to 100"),
  price: z.number(expects("a number from 0 to 1000000")).min(0, "0 to 1000000").max(1_000_000, "0 to 1000000"),
});

export const orderInputSchema = z.strictObject({
  customerId: z
    .int(expects("a positive whole number"))
    .positive("a positive whole number")
    .max(Number.MAX_SAFE_INTEGER, "a positive whole number"),
  items: z
    .array(orderItemSchema, expects(`1 to ${MAX_ORDER_ITEMS} items`))
    .min(1, `1 to ${MAX_ORDER_ITEMS} items`)
    .max(MAX_ORDER_ITEMS, `1 to ${MAX_ORDER_ITEMS} items`),
  idempotencyKey: storableText(128).optional(),
});

export type OrderItem = z.infer<typeof orderItemSchema>;
export type OrderInput = z.infer<typeof orderInputSchema>;
export type OrderMode = "sync" | "async";

export interface Order {
  orderId: string;
  customerId: number;
  items: OrderItem[];
  totalCents: number;
  mode: OrderMode;
  status: OrderStatus;
  attempts: number;
  acceptedAt: string;
  paidAt?: string;
  lastError?: string;
  idempotencyKey?: string;
}

/** Parses an untrusted order body, or throws a ValidationError naming every bad field. */
export function parseOrderInput(body: unknown): OrderInput {
  return parseOrThrow(orderInputSchema, body, "order");
}

/** Order total in integer cents, so money never passes through float sums. */
export function totalCents(items: ReadonlyArray<OrderItem>): number {
  return items.reduce((sum, item) => sum + Math.round(item.price * 100) * item.quantity, 0);
}

/** The message body published to SNS and read by workers and the Lambda handler. */
export interface OrderMessage {
  orderId: string;
  acceptedAt: string;
}

export function parseOrderMessage(body: string | undefined): OrderMessage {
  let value: unknown;
  try {
    value = JSON.parse(body ?? "");
  } catch {
    throw new ValidationError("message body is not JSON", [{ field: "body", message: "not JSON" }]);
  }
  const parsed = z.object({ orderId: z.string().min(1).max(64), acceptedAt: z.string() }).safeParse(value);
  if (!parsed.success) {
    throw new ValidationError("message is not an order message", [
      { field: String(parsed.error.issues[0]?.path.join(".") || "body"), message: "invalid" },
    ]);
  }
  return parsed.data;
}

/**
 * Time-ordered UUID (v7): sorts by acceptance time, which keeps store indexes append-only.
 * The random bits come from `randomUUID`, which draws entropy in pooled batches: one
 * `getRandomValues` call per order was 4% of the accept path's CPU. A v4 UUID's variant bits
 * are already v7's; the first 48 bits become the timestamp and the version nibble a 7.
 */
export function newOrderId(nowMs = Date.now()): string {
  const random = crypto.randomUUID();
  const ts = nowMs.toString(16).padStart(12, "0");
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${random.slice(15)}`;
}
