import { tempSqliteStore } from "@surge/testing";
import { afterEach, describe, expect, it } from "vitest";
import { PaymentDeclinedError } from "../src/errors.js";
import { PaymentProcessor } from "../src/payment.js";

describe("PaymentProcessor", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const ledger = () => {
    const t = tempSqliteStore();
    cleanups.push(t.remove);
    return t.store;
  };

  it("runs at most `slots` payments at once and records each charge once", async () => {
    const store = ledger();
    const p = new PaymentProcessor({ slots: 2, durationMs: 40, processorId: "t", ledger: store });
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, p.slotsInUse);
    }, 2);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => p.charge({ idempotencyKey: `k${i}`, orderId: `o${i}`, amountCents: 100 })),
    );
    clearInterval(watch);
    expect(peak).toBe(2);
    expect(results.every((r) => !r.replayed)).toBe(true);
    // FIFO: the last two waited for two full rounds.
    expect(results[5]?.slotWaitMs).toBeGreaterThanOrEqual(70);
    expect((await store.reconcile()).charges).toBe(6);
  });

  it("answers a replayed idempotency key from the ledger without a slot or a second charge", async () => {
    const store = ledger();
    const p = new PaymentProcessor({ slots: 1, durationMs: 20, processorId: "t", ledger: store });
    const first = await p.charge({ idempotencyKey: "order:1", orderId: "1", amountCents: 500 });
    const again = await p.charge({ idempotencyKey: "order:1", orderId: "1", amountCents: 500 });
    expect(again.replayed).toBe(true);
    expect(again.charge.chargeId).toBe(first.charge.chargeId);
    expect((await store.reconcile()).charges).toBe(1);
  });

  it("declines at the configured rate, charging nothing", async () => {
    const store = ledger();
    const p = new PaymentProcessor({
      slots: 1,
      durationMs: 1,
      failureRate: 0.5,
      processorId: "t",
      ledger: store,
      random: (() => {
        let n = 0;
        return () => (n++ % 2 === 0 ? 0.1 : 0.9);
      })(),
    });
    await expect(p.charge({ idempotencyKey: "a", orderId: "a", amountCents: 1 })).rejects.toThrow(PaymentDeclinedError);
    await expect(p.charge({ idempotencyKey: "b", orderId: "b", amountCents: 1 })).resolves.toMatchObject({
      replayed: false,
    });
    expect((await store.reconcile()).charges).toBe(1);
    expect(p.slotsInUse).toBe(0);
  });

  it("an abort during the payment frees the slot and writes no charge", async () => {
    const store = ledger();
    const p = new PaymentProcessor({ slots: 1, durationMs: 10_000, processorId: "t", ledger: store });
    const controller = new AbortController();
    const charging = p.charge({ idempotencyKey: "a", orderId: "a", amountCents: 1 }, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error("deadline"));
    await expect(charging).rejects.toThrow("deadline");
    expect(p.slotsInUse).toBe(0);
    expect(await store.findCharge("a")).toBeUndefined();
  });
});
