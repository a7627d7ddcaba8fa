/** What only the SQLite store has: a file that outlives versions of Surge, and several processes opening it. */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { newOrderId, SqliteOrderStore } from "../src/index.js";

const BetterSqlite3 = createRequire(import.meta.url)("better-sqlite3") as typeof Database;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function file(): string {
  dir = mkdtempSync(join(tmpdir(), "surge-sqlite-"));
  return join(dir, "surge.db");
}

describe("SqliteOrderStore on disk", () => {
  it("brings a file from before Lambda routing was recorded up to date, keeping its orders", async () => {
    const path = file();
    // The orders table as the first release wrote it: no platform column, user_version 0.
    const old = new BetterSqlite3(path);
    old.exec(`CREATE TABLE orders (id TEXT PRIMARY KEY, customer_id INTEGER NOT NULL, items TEXT NOT NULL,
      total_cents INTEGER NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      accepted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, paid_at INTEGER, charge_id TEXT, last_error TEXT,
      lease_holder TEXT, lease_until INTEGER, idempotency_key TEXT, UNIQUE (customer_id, idempotency_key))`);
    const existing = newOrderId();
    old
      .prepare(`INSERT INTO orders (id, customer_id, items, total_cents, mode, status, accepted_at, updated_at)
        VALUES (?, 7, '[]', 100, 'async', 'queued', ?, ?)`)
      .run(existing, Date.now(), Date.now());
    old.close();

    const store = new SqliteOrderStore(path);
    try {
      expect((await store.getOrder(existing))?.status).toBe("queued");
      expect((await store.countByStatus("workers")).queued).toBe(1);
      const { order } = await store.acceptOrder(
        {
          orderId: newOrderId(),
          customerId: 8,
          items: [{ productId: "a", quantity: 1, price: 1 }],
          totalCents: 100,
          mode: "async",
          acceptedAtMs: Date.now(),
        },
        { outbox: true },
      );
      const [row] = await store.claimOutbox(10, 1000);
      await store.completeOutbox([row?.id ?? 0], [{ orderId: order.orderId, platform: "lambda" }]);
      expect((await store.countByStatus("lambda")).queued).toBe(1);
    } finally {
      await store.close();
    }
    // Up to date means the version a new file gets.
    const fresh = file();
    await new SqliteOrderStore(fresh).close();
    const version = (p: string) => {
      const db = new BetterSqlite3(p, { readonly: true });
      try {
        return db.pragma("user_version", { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    expect(version(fresh)).toBeGreaterThan(0);
    expect(version(path)).toBe(version(fresh));
  });

  it("opens a current file without taking the write lock", async () => {
    const path = file();
    await new SqliteOrderStore(path).close();
    // Another process holds the write lock (a worker mid-transaction). Taking it would wait out the
    // busy timeout and throw "database is locked"; a current file is only read.
    const writer = new BetterSqlite3(path);
    writer.prepare("BEGIN IMMEDIATE").run();
    try {
      const store = new SqliteOrderStore(path);
      expect(await store.countByStatus()).toMatchObject({ queued: 0 });
      await store.close();
    } finally {
      writer.prepare("ROLLBACK").run();
      writer.close();
    }
  });
});
