import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/errors.js";
import { newOrderId, parseOrderInput, parseOrderMessage, totalCents } from "../src/order.js";

const item = { productId: "tv-55", quantity: 1, price: 499.99 };

function fieldsOf(body: unknown): string[] {
  try {
    parseOrderInput(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details.map((d) => d.field);
  }
  return [];
}

describe("order schema", () => {
  it("accepts the contract's order", () => {
    expect(parseOrderInput({ customerId: 1, items: [item], idempotencyKey: "abc" })).toEqual({
      customerId: 1,
      items: [item],
      idempotencyKey: "abc",
    });
  });

  it.each([
    ["customerId 0", { customerId: 0, items: [item] }, "customerId"],
    ["customerId not an integer", { customerId: 1.5, items: [item] }, "customerId"],
    ["customerId a string", { customerId: "1", items: [item] }, "customerId"],
    ["no items", { customerId: 1, items: [] }, "items"],
    ["51 items", { customerId: 1, items: Array.from({ length: 51 }, () => item) }, "items"],
    ["quantity 0", { customerId: 1, items: [{ ...item, quantity: 0 }] }, "items.0.quantity"],
    ["quantity 101", { customerId: 1, items: [{ ...item, quantity: 101 }] }, "items.0.quantity"],
    ["negative price", { customerId: 1, items: [item, { ...item, price: -1 }] }, "items.1.price"],
    ["empty productId", { customerId: 1, items: [{ ...item, productId: "" }] }, "items.0.productId"],
    ["unknown field", { customerId: 1, items: [item], coupon: "FREE" }, "body"],
    ["not an object", [1, 2], "body"],
  ])("names the field: %s", (_name, body, field) => {
    expect(fieldsOf(body)).toContain(field);
  });

  it.each([
    ["no items", { customerId: 1 }, { field: "items", message: "required, 1 to 50 items" }],
    ["empty items", { customerId: 1, items: [] }, { field: "items", message: "1 to 50 items" }],
    ["items not a list", { customerId: 1, items: "tv" }, { field: "items", message: "1 to 50 items" }],
    ["no customerId", { items: [item] }, { field: "customerId", message: "required, a positive whole number" }],
    [
      "quantity 2.5",
      { customerId: 1, items: [{ ...item, quantity: 2.5 }] },
      { field: "items.0.quantity", message: "a whole number from 1 to 100" },
    ],
  ])("says what is expected, not zod's types: %s", (_name, body, problem) => {
    let details: unknown;
    try {
      parseOrderInput(body);
    } catch (error) {
      details = (error as ValidationError).details;
    }
    expect(details).toContainEqual(problem);
  });

  it("names the field and the expectation in the error's message", () => {
    expect(() => parseOrderInput({ customerId: 1 })).toThrow("invalid order: items: required, 1 to 50 items");
  });

  it("sums money in integer cents", () => {
    expect(totalCents([{ productId: "a", quantity: 3, price: 0.1 }])).toBe(30);
    expect(totalCents([item, { productId: "b", quantity: 2, price: 19.99 }])).toBe(49999 + 3998);
  });

  it("makes time-ordered, unique v7 ids", () => {
    const a = newOrderId(1_700_000_000_000);
    const b = newOrderId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(Number.parseInt(a.replaceAll("-", "").slice(0, 12), 16)).toBe(1_700_000_000_000);
    expect(new Set(Array.from({ length: 1000 }, () => newOrderId())).size).toBe(1000);
  });

  it("parses queue messages and refuses poison", () => {
    expect(parseOrderMessage('{"orderId":"x","acceptedAt":"2026-01-01T00:00:00Z"}').orderId).toBe("x");
    expect(() => parseOrderMessage("not json")).toThrow(ValidationError);
    expect(() => parseOrderMessage('{"hello":1}')).toThrow(ValidationError);
    expect(() => parseOrderMessage(undefined)).toThrow(ValidationError);
  });
});
