import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { OPS_TOKEN, startTestApi } from "@surge/api/testing";
import { emptyStatusCounts, newOrderId, type Reconciliation, totalCents } from "@surge/core";
import { auditVerdict, formatAudit, reconcileThroughApi } from "@surge/loadgen/audit";
import { type Emulator, startEmulator, tempSqliteStore } from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");

const clean: Reconciliation = {
  accepted: 10,
  byStatus: { ...emptyStatusCounts(), paid: 8, dead: 1, queued: 1 },
  inProgress: 1,
  charges: 8,
  paidTwice: 0,
  paidWithoutCharge: 0,
  deadUnexplained: 0,
  outboxPending: 0,
};

describe("npm run audit:orders", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it("names every way an order can be wrong, and tells accounted-for from settled", () => {
    expect(auditVerdict(clean)).toEqual({ ok: true, settled: false, problems: [] });
    expect(auditVerdict({ ...clean, byStatus: { ...clean.byStatus, queued: 0, paid: 9 }, inProgress: 0 })).toEqual({
      ok: true,
      settled: true,
      problems: [],
    });
    const bad = auditVerdict({ ...clean, paidTwice: 2, paidWithoutCharge: 1, deadUnexplained: 1, accepted: 11 });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toEqual([
      "2 order(s) paid more than once",
      "1 order(s) marked paid with no charge",
      "1 dead order(s) without a reason",
      "1 order(s) in no known state",
    ]);
    expect(formatAudit(clean)).toMatch(/orders accepted\s+10\n\s+paid\s+8/);
    expect(formatAudit({ ...clean, paidTwice: 1 })).toContain("FAILED: 1 order(s) paid more than once");
  });

  it("reads the running API's reconciliation, and the store directly with the API down", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator);
    try {
      const items = [{ productId: "p", quantity: 1, price: 5 }];
      const order = { customerId: 1, items, totalCents: totalCents(items), mode: "async" as const };
      const paid = newOrderId();
      await t.store.acceptOrder({ ...order, orderId: paid, acceptedAtMs: Date.now() }, { outbox: false });
      await t.store.claimOrder(paid, "t", 30_000);
      await t.store.recordCharge({
        idempotencyKey: `order:${paid}`,
        orderId: paid,
        amountCents: 500,
        processorId: "t",
      });
      await t.store.markPaid(paid, "ch_1");
      await t.store.acceptOrder({ ...order, orderId: newOrderId(), acceptedAtMs: Date.now() }, { outbox: false });

      const viaApi = await reconcileThroughApi(api.url, OPS_TOKEN);
      expect(viaApi).toMatchObject({ accepted: 2, charges: 1, paidTwice: 0, inProgress: 1 });
      await expect(reconcileThroughApi(api.url, "wrong-token-0123456789")).rejects.toThrow(/401/);

      // Asynchronous: the API under audit runs in this very process and must keep answering.
      const cli = (...args: string[]) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
          const child = spawn(
            process.execPath,
            ["--import", "tsx", "packages/loadgen/src/cli/audit-orders.ts", ...args],
            {
              cwd: repoRoot,
              env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
            },
          );
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d: Buffer) => {
            stdout += d;
          });
          child.stderr.on("data", (d: Buffer) => {
            stderr += d;
          });
          child.on("exit", (status) => done({ status, stdout, stderr }));
        });
      const fromStore = await cli("--data-dir", t.dataDir);
      expect(fromStore.status, fromStore.stderr).toBe(0);
      expect(fromStore.stdout).toMatch(/orders accepted\s+2/);
      expect(fromStore.stdout).toContain("OK: every order is accounted for");
      // One order still queued: not settled.
      expect((await cli("--data-dir", t.dataDir, "--settled")).status).toBe(1);
      const json = await cli("--url", api.url, "--token", OPS_TOKEN, "--json");
      expect(json.status, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ accepted: 2, ok: true, settled: false });
      expect((await cli("--url", api.url)).status).toBe(3); // no token
    } finally {
      await api.close();
      await t.remove();
    }
  });
});
