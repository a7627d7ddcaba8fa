import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type Database from "better-sqlite3";
import type { Order, OrderStatus } from "../order.js";
import type { ProcessingPlatform } from "../queue.js";
import {
  ageSeconds,
  type ChargeRow,
  type OrderRow,
  type OutboxRow,
  ordersByPlatform,
  outboxPayload,
  type RecordRow,
  rowToCharge,
  rowToOrder,
  rowToOutboxEntry,
  rowToRecord,
  rowToSaleWindow,
  SALE_WINDOW_COLUMNS,
  type SaleWindowRow,
  saleWindowValues,
  toReconciliation,
  unclaimed,
} from "./rows.js";
import { RECONCILE_SQL, tablesSql } from "./schema.js";
import {
  type Charge,
  type ClaimResult,
  emptyStatusCounts,
  type ListRecordsOptions,
  type NewOrder,
  type NewSaleWindow,
  type OrderStore,
  type OutboxEntry,
  type PublishedRoute,
  type Reconciliation,
  type SaleWindow,
  type StoredRecord,
} from "./types.js";

const SCHEMA = tablesSql("sqlite");

/** PRAGMA user_version once SCHEMA and every column added since are in place. */
const SCHEMA_VERSION = 3;

interface PendingAccept {
  order: NewOrder;
  outbox: boolean;
  resolve: (value: { order: Order; created: boolean }) => void;
  reject: (error: unknown) => void;
}

/**
 * Loaded when a store opens, not at import: the Lambda bundle includes this module but ships
 * without native modules (it runs on PostgreSQL), so a static import would fail its cold starts.
 */
function loadBetterSqlite3(): typeof Database {
  return createRequire(import.meta.url)("better-sqlite3") as typeof Database;
}

/**
 * SQLite order store (WAL, synchronous=FULL), shared by several processes: writes take the lock
 * up front (BEGIN IMMEDIATE). Accepts are group-committed per event-loop turn: one fsync a batch.
 */
export class SqliteOrderStore implements OrderStore {
  readonly kind = "sqlite" as const;
  readonly #db: Database.Database;
  #pending: PendingAccept[] = [];
  #flushScheduled = false;
  readonly #stmts;

  constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new (loadBetterSqlite3())(path, { timeout: 10_000 });
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = FULL");
    this.#db.pragma("busy_timeout = 10000");
    this.#migrate();
    const db = this.#db;
    this.#stmts = {
      insertOrder: db.prepare(`INSERT INTO orders
        (id, customer_id, items, total_cents, mode, status, attempts, accepted_at, updated_at, idempotency_key)
        VALUES (@id, @customerId, @items, @totalCents, @mode, 'queued', 0, @acceptedAt, @acceptedAt, @idempotencyKey)
        ON CONFLICT (customer_id, idempotency_key) DO NOTHING`),
      insertOutbox: db.prepare("INSERT INTO outbox (order_id, payload, created_at) VALUES (?, ?, ?)"),
      byIdempotencyKey: db.prepare<[number, string], OrderRow>(
        "SELECT * FROM orders WHERE customer_id = ? AND idempotency_key = ?",
      ),
      byId: db.prepare<[string], OrderRow & { lease_until: number | null }>("SELECT * FROM orders WHERE id = ?"),
      claim: db.prepare<[{ holder: string; leaseUntil: number; now: number; id: string }], OrderRow>(`UPDATE orders
        SET status = 'processing', attempts = attempts + 1, lease_holder = @holder, lease_until = @leaseUntil,
          updated_at = @now
        WHERE id = @id AND (status IN ('queued', 'failed')
          OR (status = 'processing' AND (lease_until < @now OR lease_holder = @holder)))
        RETURNING *`),
      renew: db.prepare(
        "UPDATE orders SET lease_until = ? WHERE id = ? AND status = 'processing' AND lease_holder = ?",
      ),
      paid: db.prepare(`UPDATE orders SET status = 'paid', paid_at = ?, updated_at = ?, charge_id = ?,
        lease_holder = NULL, lease_until = NULL WHERE id = ? AND status <> 'paid'`),
      release: db.prepare(`UPDATE orders SET status = 'queued', updated_at = ?, lease_holder = NULL, lease_until = NULL
        WHERE id = ? AND status = 'processing' AND lease_holder = ?`),
      failed: db.prepare(`UPDATE orders SET status = 'failed', last_error = ?, updated_at = ?,
        lease_holder = NULL, lease_until = NULL WHERE id = ? AND status = 'processing' AND lease_holder = ?`),
      dead: db.prepare(`UPDATE orders SET status = 'dead', last_error = ?, updated_at = ?,
        lease_holder = NULL, lease_until = NULL WHERE id = ? AND status NOT IN ('paid', 'dead')`),
      requeue: db.prepare<[number, string], { id: string; accepted_at: number }>(
        "UPDATE orders SET status = 'queued', updated_at = ? WHERE id = ? AND status = 'dead' RETURNING id, accepted_at",
      ),
      deadIds: db.prepare<[], { id: string }>("SELECT id FROM orders WHERE status = 'dead' ORDER BY accepted_at"),
      chargeByKey: db.prepare<[string], ChargeRow>(
        "SELECT * FROM payments WHERE idempotency_key = ? ORDER BY created_at LIMIT 1",
      ),
      insertCharge:
        db.prepare(`INSERT INTO payments (id, idempotency_key, order_id, amount_cents, processor_id, created_at)
        VALUES (@chargeId, @idempotencyKey, @orderId, @amountCents, @processorId, @createdAtMs)`),
      claimOutbox: db.prepare<[{ leaseUntil: number; now: number; limit: number }], OutboxRow>(
        `UPDATE outbox SET lease_until = @leaseUntil WHERE id IN
          (SELECT id FROM outbox WHERE lease_until < @now ORDER BY id LIMIT @limit) RETURNING *`,
      ),
      // One prepared statement for any number of ids: compiling a fresh IN (?, ?, …) per round cost more than the delete.
      deleteOutbox: db.prepare<[string]>("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))"),
      outboxStats: db.prepare<[], { pending: number; oldest: number | null }>(
        "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox",
      ),
      countByStatus: db.prepare<[], { status: OrderStatus; n: number }>(
        "SELECT status, COUNT(*) AS n FROM orders GROUP BY status",
      ),
      countWorkersByStatus: db.prepare<[], { status: OrderStatus; n: number }>(
        "SELECT status, COUNT(*) AS n FROM orders WHERE platform IS NULL GROUP BY status",
      ),
      countLambdaByStatus: db.prepare<[], { status: OrderStatus; n: number }>(
        "SELECT status, COUNT(*) AS n FROM orders WHERE platform = 'lambda' GROUP BY status",
      ),
      routeToLambda: db.prepare<[string]>(
        "UPDATE orders SET platform = 'lambda' WHERE id IN (SELECT value FROM json_each(?)) AND platform IS NULL",
      ),
      routeToWorkers: db.prepare<[string]>(
        "UPDATE orders SET platform = NULL WHERE id IN (SELECT value FROM json_each(?)) AND platform IS NOT NULL",
      ),
      oldestWaiting: db.prepare<[], { oldest: number | null }>(`SELECT MIN(m) AS oldest FROM (
          SELECT MIN(accepted_at) AS m FROM orders WHERE mode = 'async' AND status = 'queued'
          UNION ALL SELECT MIN(accepted_at) FROM orders WHERE mode = 'async' AND status = 'processing'
          UNION ALL SELECT MIN(accepted_at) FROM orders WHERE mode = 'async' AND status = 'failed')`),
      // One ordered index walk per status (orders_mode_status_accepted) that stops at the first row
      // on the platform asked for.
      oldestUntaken: db.prepare<[], { oldest: number | null }>(untakenSql("")),
      oldestUntakenWorkers: db.prepare<[], { oldest: number | null }>(untakenSql("AND platform IS NULL")),
      oldestUntakenLambda: db.prepare<[], { oldest: number | null }>(untakenSql("AND platform = 'lambda'")),
    };
  }

  /**
   * Creates or upgrades the schema under the write lock (two processes may open one file at once);
   * a current file is only read, so opening does not wait behind writers.
   */
  #migrate(): void {
    const version = () => this.#db.pragma("user_version", { simple: true }) as number;
    if (version() >= SCHEMA_VERSION) return;
    this.#db
      .transaction(() => {
        if (version() >= SCHEMA_VERSION) return;
        this.#db.exec(SCHEMA);
        const columns = this.#db.prepare<[], string>("SELECT name FROM pragma_table_info('orders')").pluck().all();
        // Version 3 (sale_windows) needs only SCHEMA's CREATE TABLE IF NOT EXISTS above.
        // Version 2: files from before Lambda routing was recorded.
        if (!columns.includes("platform")) this.#db.exec("ALTER TABLE orders ADD COLUMN platform TEXT");
        this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }

  acceptOrder(order: NewOrder, options: { outbox: boolean }): Promise<{ order: Order; created: boolean }> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ order, outbox: options.outbox, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flushAccepts());
      }
    });
  }

  #flushAccepts(): void {
    const batch = this.#pending;
    this.#pending = [];
    this.#flushScheduled = false;
    const results: Array<{ order: Order; created: boolean }> = [];
    try {
      this.#db
        .transaction(() => {
          for (const { order, outbox } of batch) {
            const info = this.#stmts.insertOrder.run({
              id: order.orderId,
              customerId: order.customerId,
              items: JSON.stringify(order.items),
              totalCents: order.totalCents,
              mode: order.mode,
              acceptedAt: order.acceptedAtMs,
              idempotencyKey: order.idempotencyKey ?? null,
            });
            if (info.changes === 0 && order.idempotencyKey !== undefined) {
              const existing = this.#stmts.byIdempotencyKey.get(order.customerId, order.idempotencyKey);
              if (!existing) throw new Error(`idempotency conflict without a row for ${order.idempotencyKey}`);
              results.push({ order: rowToOrder(existing), created: false });
              continue;
            }
            if (outbox) {
              this.#stmts.insertOutbox.run(
                order.orderId,
                outboxPayload(order.orderId, order.acceptedAtMs),
                order.acceptedAtMs,
              );
            }
            results.push({ order: this.#newOrderView(order), created: true });
          }
        })
        .immediate();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const [i, pending] of batch.entries()) {
      pending.resolve(results[i] as { order: Order; created: boolean });
    }
  }

  #newOrderView(order: NewOrder): Order {
    const view: Order = {
      orderId: order.orderId,
      customerId: order.customerId,
      items: order.items,
      totalCents: order.totalCents,
      mode: order.mode,
      status: "queued",
      attempts: 0,
      acceptedAt: new Date(order.acceptedAtMs).toISOString(),
    };
    if (order.idempotencyKey !== undefined) view.idempotencyKey = order.idempotencyKey;
    return view;
  }

  async getOrder(orderId: string): Promise<Order | undefined> {
    const row = this.#stmts.byId.get(orderId);
    return row ? rowToOrder(row) : undefined;
  }

  async claimOrder(orderId: string, holder: string, leaseMs: number): Promise<ClaimResult> {
    const now = Date.now();
    const claimed = this.#stmts.claim.get({ holder, leaseUntil: now + leaseMs, now, id: orderId });
    if (claimed) return { kind: "claimed", order: rowToOrder(claimed) };
    return unclaimed(this.#stmts.byId.get(orderId), now);
  }

  async renewLease(orderId: string, holder: string, leaseMs: number): Promise<boolean> {
    return this.#stmts.renew.run(Date.now() + leaseMs, orderId, holder).changes > 0;
  }

  async markPaid(orderId: string, chargeId: string): Promise<void> {
    const now = Date.now();
    this.#stmts.paid.run(now, now, chargeId, orderId);
  }

  async releaseOrder(orderId: string, holder: string): Promise<void> {
    this.#stmts.release.run(Date.now(), orderId, holder);
  }

  async markFailed(orderId: string, holder: string, reason: string): Promise<void> {
    this.#stmts.failed.run(reason, Date.now(), orderId, holder);
  }

  async markDead(orderId: string, reason: string): Promise<void> {
    this.#stmts.dead.run(reason, Date.now(), orderId);
  }

  async markWaitingDead(reason: string): Promise<string[]> {
    return this.#db
      .prepare<[string, number], { id: string }>(
        `UPDATE orders SET status = 'dead', last_error = ?, updated_at = ?, lease_holder = NULL, lease_until = NULL
         WHERE mode = 'async' AND status IN ('queued', 'failed') RETURNING id`,
      )
      .all(reason, Date.now())
      .map((r) => r.id);
  }

  async requeueDead(orderIds?: ReadonlyArray<string>): Promise<string[]> {
    return this.#db
      .transaction(() => {
        const ids = orderIds ?? this.#stmts.deadIds.all().map((r) => r.id);
        const now = Date.now();
        const requeued: string[] = [];
        for (const id of ids) {
          const row = this.#stmts.requeue.get(now, id);
          if (!row) continue;
          this.#stmts.insertOutbox.run(row.id, outboxPayload(row.id, row.accepted_at), now);
          requeued.push(row.id);
        }
        return requeued;
      })
      .immediate();
  }

  async republishStale(olderThanMs: number, limit: number): Promise<string[]> {
    return this.#db
      .transaction(() => {
        const now = Date.now();
        const rows = this.#db
          .prepare<[{ now: number; before: number; limit: number }], { id: string; accepted_at: number }>(
            `UPDATE orders SET updated_at = @now WHERE id IN (
               SELECT o.id FROM orders o
               WHERE o.mode = 'async' AND o.updated_at < @before AND o.platform IS NULL
                 AND (o.status IN ('queued', 'failed') OR (o.status = 'processing' AND o.lease_until < @now))
                 AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.order_id = o.id)
               ORDER BY o.accepted_at LIMIT @limit)
             RETURNING id, accepted_at`,
          )
          .all({ now, before: now - olderThanMs, limit });
        for (const row of rows) this.#stmts.insertOutbox.run(row.id, outboxPayload(row.id, row.accepted_at), now);
        return rows.sort((a, b) => a.accepted_at - b.accepted_at).map((r) => r.id);
      })
      .immediate();
  }

  async recordCharge(charge: Omit<Charge, "chargeId" | "createdAtMs">): Promise<{ charge: Charge; replayed: boolean }> {
    return this.#db
      .transaction(() => {
        const existing = this.#stmts.chargeByKey.get(charge.idempotencyKey);
        if (existing) return { charge: rowToCharge(existing), replayed: true };
        const created: Charge = { ...charge, chargeId: `ch_${crypto.randomUUID()}`, createdAtMs: Date.now() };
        this.#stmts.insertCharge.run(created);
        return { charge: created, replayed: false };
      })
      .immediate();
  }

  async findCharge(idempotencyKey: string): Promise<Charge | undefined> {
    const row = this.#stmts.chargeByKey.get(idempotencyKey);
    return row ? rowToCharge(row) : undefined;
  }

  async claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const now = Date.now();
    return this.#withoutFsync(() => this.#stmts.claimOutbox.all({ leaseUntil: now + leaseMs, now, limit }))
      .map(rowToOutboxEntry)
      .sort((a, b) => a.id - b.id);
  }

  async completeOutbox(ids: ReadonlyArray<number>, routes?: ReadonlyArray<PublishedRoute>): Promise<void> {
    if (ids.length === 0) return;
    const { lambda, workers } = ordersByPlatform(routes);
    this.#withoutFsync(() =>
      this.#db
        .transaction(() => {
          this.#stmts.deleteOutbox.run(JSON.stringify(ids));
          if (lambda.length > 0) this.#stmts.routeToLambda.run(JSON.stringify(lambda));
          if (workers.length > 0) this.#stmts.routeToWorkers.run(JSON.stringify(workers));
        })
        .immediate(),
    );
  }

  /**
   * One write without a WAL sync (synchronous=NORMAL), for the relay's bookkeeping only: losing it
   * to a power cut republishes an order, which at-least-once delivery already tolerates.
   */
  #withoutFsync<T>(write: () => T): T {
    this.#db.pragma("synchronous = NORMAL");
    try {
      return write();
    } finally {
      this.#db.pragma("synchronous = FULL");
    }
  }

  async outboxStats(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const row = this.#stmts.outboxStats.get();
    return {
      pending: row?.pending ?? 0,
      oldestAgeSeconds: ageSeconds(row?.oldest),
    };
  }

  async countByStatus(platform?: ProcessingPlatform): Promise<Record<OrderStatus, number>> {
    const counts = emptyStatusCounts();
    const statement =
      platform === undefined
        ? this.#stmts.countByStatus
        : platform === "lambda"
          ? this.#stmts.countLambdaByStatus
          : this.#stmts.countWorkersByStatus;
    for (const row of statement.all()) counts[row.status] = row.n;
    return counts;
  }

  async oldestWaitingAgeSeconds(): Promise<number> {
    return ageSeconds(this.#stmts.oldestWaiting.get()?.oldest);
  }

  async oldestUntakenAcceptedAtMs(platform?: ProcessingPlatform): Promise<number | undefined> {
    const statement =
      platform === undefined
        ? this.#stmts.oldestUntaken
        : platform === "lambda"
          ? this.#stmts.oldestUntakenLambda
          : this.#stmts.oldestUntakenWorkers;
    const oldest = statement.get()?.oldest;
    return oldest === null || oldest === undefined ? undefined : Number(oldest);
  }

  async reconcile(): Promise<Reconciliation> {
    const byStatus = await this.countByStatus();
    return toReconciliation(byStatus, this.#db.prepare<[], Record<string, number>>(RECONCILE_SQL).get());
  }

  async putRecord<T>(kind: string, id: string, data: T, atMs = Date.now()): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO records (kind, id, at, data) VALUES (?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at, data = excluded.data`,
      )
      .run(kind, id, atMs, JSON.stringify(data));
  }

  async getRecord<T>(kind: string, id: string): Promise<StoredRecord<T> | undefined> {
    const row = this.#db
      .prepare<[string, string], RecordRow>("SELECT * FROM records WHERE kind = ? AND id = ?")
      .get(kind, id);
    return row ? rowToRecord<T>(row) : undefined;
  }

  async listRecords<T>(kind: string, options: ListRecordsOptions = {}): Promise<StoredRecord<T>[]> {
    return this.#db
      .prepare<[string, number, number, number], RecordRow>(
        "SELECT * FROM records WHERE kind = ? AND at < ? AND at >= ? ORDER BY at DESC, id DESC LIMIT ?",
      )
      .all(kind, options.beforeMs ?? Number.MAX_SAFE_INTEGER, options.sinceMs ?? 0, options.limit ?? 100)
      .map((row) => rowToRecord<T>(row));
  }

  async getSetting<T>(key: string): Promise<T | undefined> {
    const row = this.#db.prepare<[string], { value: string }>("SELECT value FROM settings WHERE key = ?").get(key);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async setSetting<T>(key: string, value: T): Promise<void> {
    this.#db
      .prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(key, JSON.stringify(value));
  }

  async activitySince(sinceMs: number, limit = 5000) {
    const accepted = this.#db
      .prepare<[number], { n: number }>("SELECT COUNT(*) AS n FROM orders WHERE accepted_at >= ? AND mode = 'async'")
      .get(sinceMs);
    const paid = this.#db
      .prepare<[number, number], { ms: number }>(
        "SELECT paid_at - accepted_at AS ms FROM orders WHERE paid_at >= ? ORDER BY paid_at DESC LIMIT ?",
      )
      .all(sinceMs, limit);
    const paidCount = this.#db
      .prepare<[number], { n: number }>("SELECT COUNT(*) AS n FROM orders WHERE paid_at >= ?")
      .get(sinceMs);
    return { accepted: accepted?.n ?? 0, paid: paidCount?.n ?? 0, endToEndMs: paid.map((r) => r.ms) };
  }

  async insertSaleWindow(window: NewSaleWindow): Promise<{ created: SaleWindow } | { overlaps: SaleWindow }> {
    return this.#db
      .transaction((): { created: SaleWindow } | { overlaps: SaleWindow } => {
        const overlapping = this.#db
          .prepare<[number, number], SaleWindowRow>(
            `SELECT * FROM sale_windows WHERE cancelled_at IS NULL AND starts_at < ? AND ends_at > ?
             ORDER BY starts_at LIMIT 1`,
          )
          .get(window.endsAtMs, window.startsAtMs);
        if (overlapping) return { overlaps: rowToSaleWindow(overlapping) };
        this.#db
          .prepare(`INSERT INTO sale_windows (${SALE_WINDOW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`)
          .run(...saleWindowValues(window));
        return { created: { ...window, cancelledAtMs: null } };
      })
      .immediate();
  }

  async listSaleWindows(options: { endsAfterMs?: number; limit?: number } = {}): Promise<SaleWindow[]> {
    return this.#db
      .prepare<[number, number], SaleWindowRow>(
        "SELECT * FROM sale_windows WHERE ends_at >= ? ORDER BY starts_at, id LIMIT ?",
      )
      .all(options.endsAfterMs ?? 0, options.limit ?? 200)
      .map(rowToSaleWindow);
  }

  async getSaleWindow(id: string): Promise<SaleWindow | undefined> {
    const row = this.#db.prepare<[string], SaleWindowRow>("SELECT * FROM sale_windows WHERE id = ?").get(id);
    return row ? rowToSaleWindow(row) : undefined;
  }

  async cancelSaleWindow(id: string, atMs: number): Promise<SaleWindow | undefined> {
    const row = this.#db
      .prepare<[number, string], SaleWindowRow>(
        "UPDATE sale_windows SET cancelled_at = COALESCE(cancelled_at, ?) WHERE id = ? RETURNING *",
      )
      .get(atMs, id);
    return row ? rowToSaleWindow(row) : undefined;
  }

  async ping(): Promise<void> {
    this.#db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    if (this.#pending.length > 0) this.#flushAccepts();
    if (this.#db.open) this.#db.close();
  }
}

/** The oldest untaken (queued or failed) async order's acceptance time, optionally on one platform. */
function untakenSql(platformFilter: string): string {
  const oldest = (status: string) =>
    `SELECT accepted_at AS m FROM orders WHERE mode = 'async' AND status = '${status}' ${platformFilter} ORDER BY accepted_at LIMIT 1`;
  return `SELECT MIN(m) AS oldest FROM (SELECT * FROM (${oldest("queued")}) UNION ALL SELECT * FROM (${oldest("failed")}))`;
}
