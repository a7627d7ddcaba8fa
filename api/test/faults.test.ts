import { type Emulator, startEmulator, tempSqliteStore, validOrder } from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPS_TOKEN, postJson, startTestApi } from "./helpers.js";

const auth = { authorization: `Bearer ${OPS_TOKEN}` };
const put = (url: string, body: unknown) =>
  fetch(url, { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });

describe("/ops/faults: a simulated payment outage and decline rate", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it("an outage answers sync orders 503 with Retry-After, leaves them dead and explained, and is audited", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator);
    try {
      const bad = await put(`${api.url}/ops/faults`, { paymentOutageSeconds: 99999 });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { details: Array<{ field: string }> }).details[0]?.field).toBe(
        "paymentOutageSeconds",
      );

      const set = await put(`${api.url}/ops/faults`, { paymentOutageSeconds: 60, paymentFailureRate: 0.25 });
      expect(await set.json()).toMatchObject({ paymentOutage: true, paymentFailureRate: 0.25 });
      // The processes read faults through a 1 s cache.
      await new Promise((r) => setTimeout(r, 1100));
      const res = await postJson(`${api.url}/orders/sync`, validOrder());
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(res.body.error).toMatch(/unavailable/);
      const r = await t.store.reconcile();
      expect(r).toMatchObject({ charges: 0, inProgress: 0, deadUnexplained: 0 });

      const state = (await (await fetch(`${api.url}/ops/state`, { headers: auth })).json()) as Record<string, unknown>;
      expect(state.faults).toMatchObject({ paymentOutage: true, paymentOutageRemainingSeconds: expect.any(Number) });

      const cleared = await put(`${api.url}/ops/faults`, { paymentOutageSeconds: 0, paymentFailureRate: null });
      expect(await cleared.json()).toMatchObject({ paymentOutage: false, paymentFailureRate: null });
      await new Promise((r) => setTimeout(r, 1100));
      expect((await postJson(`${api.url}/orders/sync`, validOrder())).status).toBe(200);

      const audit = (await (await fetch(`${api.url}/ops/audit?action=faults`, { headers: auth })).json()) as {
        entries: Array<{ action: string; actor: string }>;
      };
      expect(audit.entries.map((e) => e.action)).toEqual(["faults.set", "faults.set"]);
    } finally {
      await api.close();
      await t.remove();
    }
  });
});
