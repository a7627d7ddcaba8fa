/**
 * Property-based tests of the order schema: whatever a client sends, parsing ends in a valid order
 * or a ValidationError that names a field — never another exception, never a partial order.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/errors.js";
import { orderInputSchema, parseOrderInput, parseOrderMessage, totalCents } from "../src/order.js";

/** Strings the schema accepts as product ids and idempotency keys: printable, no NUL (PostgreSQL TEXT refuses it). */
const text = (maxLength: number) =>
  fc
    .string({ minLength: 1, maxLength, unit: "grapheme" })
    .filter((s) => s.length <= maxLength && !s.includes("\u0000"));

const validItem = fc.record({
  productId: text(128),
  quantity: fc.integer({ min: 1, max: 100 }),
  price: fc.oneof(
    fc.integer({ min: 0, max: 1_000_000 }),
    fc.double({ min: 0, max: 1_000_000, noNaN: true, noDefaultInfinity: true }).map((p) => Math.abs(p)),
  ),
});

const validOrderInput = fc.record(
  {
    customerId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    items: fc.array(validItem, { minLength: 1, maxLength: 50 }),
    idempotencyKey: text(128),
  },
  { requiredKeys: ["customerId", "items"] },
);

/** A value of the wrong type or out of bounds for each field, with the field the error must name. */
const corruption = fc.oneof(
  fc
    .oneof(
      fc.integer({ max: 0 }),
      fc.double({ min: 1.000001, max: 1e6, noNaN: true }).filter((n) => !Number.isInteger(n)),
      fc.constant(Number.MAX_SAFE_INTEGER + 2),
      fc.string(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.nat()),
    )
    .map((value) => ({ path: ["customerId"], value })),
  fc
    .oneof(fc.constant([]), fc.array(validItem, { minLength: 51, maxLength: 60 }), fc.string(), fc.constant({}))
    .map((value) => ({ path: ["items"], value })),
  fc
    .oneof(fc.integer({ max: 0 }), fc.integer({ min: 101 }), fc.double({ min: 1.1, max: 99.9 }), fc.string())
    .filter((v) => !Number.isInteger(v) || (v as number) < 1 || (v as number) > 100)
    .map((value) => ({ path: ["items", "0", "quantity"], value })),
  fc
    .oneof(fc.double({ max: -Number.MIN_VALUE, noNaN: true }), fc.double({ min: 1_000_001, noNaN: true }), fc.string())
    .map((value) => ({ path: ["items", "0", "price"], value })),
  fc
    .oneof(fc.constant(""), fc.string({ minLength: 129, maxLength: 300 }), fc.integer(), fc.constant(null))
    .map((value) => ({ path: ["items", "0", "productId"], value })),
  fc
    .oneof(fc.constant(""), fc.string({ minLength: 129, maxLength: 300 }), fc.integer(), fc.constant(null))
    .map((value) => ({ path: ["idempotencyKey"], value })),
  // NUL cannot be stored in a PostgreSQL TEXT column: refused at the door as a 400, never a 500 from the store.
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }))
    .map(([a, b]) => ({ path: ["idempotencyKey"], value: `${a}\u0000${b}` })),
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }))
    .map(([a, b]) => ({ path: ["items", "0", "productId"], value: `${a}\u0000${b}` })),
);

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1] as string] = value;
}

/** Parses and returns the error (or undefined), failing the property on any error that is not a ValidationError. */
function validationErrorOf(body: unknown): ValidationError | undefined {
  try {
    parseOrderInput(body);
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw new Error(`not a ValidationError: ${String(error)}`);
    return error;
  }
}

describe("order schema (properties)", () => {
  it("any value at all parses to a valid order or a ValidationError naming fields — nothing else", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything({ withNullPrototype: true, withMap: true }), fc.jsonValue()), (body) => {
        const error = validationErrorOf(body);
        if (error === undefined) {
          expect(orderInputSchema.safeParse(body).success).toBe(true);
          return;
        }
        expect(error.details.length).toBeGreaterThan(0);
        for (const d of error.details) {
          expect(d.field).toMatch(/^\S+$/);
          expect(d.message.length).toBeGreaterThan(0);
        }
        expect(error.message).toContain(error.details[0]?.field);
      }),
      { numRuns: 1000 },
    );
  });

  it("every order inside the contract's bounds is accepted unchanged, with an exact integer total", () => {
    fc.assert(
      fc.property(validOrderInput, (input) => {
        const parsed = parseOrderInput(JSON.parse(JSON.stringify(input)));
        expect(parsed).toEqual(input);
        const total = totalCents(parsed.items);
        expect(Number.isSafeInteger(total)).toBe(true);
        expect(total).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it("one bad field in an otherwise valid order is refused, and the error names that field", () => {
    fc.assert(
      fc.property(validOrderInput, corruption, (input, { path, value }) => {
        const body = structuredClone(input) as unknown as Record<string, unknown>;
        setPath(body, path, value);
        const error = validationErrorOf(body);
        expect(error, `accepted ${JSON.stringify(body)}`).toBeInstanceOf(ValidationError);
        expect(error?.details.map((d) => d.field)).toContain(path.join("."));
      }),
      { numRuns: 1000 },
    );
  });

  it("an unknown field anywhere is refused", () => {
    fc.assert(
      fc.property(
        validOrderInput,
        fc.string({ minLength: 1 }).filter((k) => !["customerId", "items", "idempotencyKey"].includes(k)),
        fc.jsonValue(),
        fc.boolean(),
        (input, key, value, inItem) => {
          const body = structuredClone(input) as unknown as Record<string, unknown>;
          // An own property, as JSON.parse makes one: `obj["__proto__"] = v` would set the prototype instead.
          const set = (target: object) =>
            Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
          if (inItem) {
            if (["productId", "quantity", "price"].includes(key)) return;
            set(input.items[0] as object);
            body.items = input.items;
          } else {
            set(body);
          }
          expect(validationErrorOf(body)).toBeInstanceOf(ValidationError);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a queue message body is an order message or a ValidationError (poison), never another exception", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.record({ orderId: fc.anything(), acceptedAt: fc.anything() }).map((v) => JSON.stringify(v) ?? ""),
          fc.constant(undefined),
        ),
        (body) => {
          try {
            const message = parseOrderMessage(body);
            expect(typeof message.orderId).toBe("string");
            expect(message.orderId.length).toBeGreaterThan(0);
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
