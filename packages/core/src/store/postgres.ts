import pg from "pg";
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

const schemaSql = (schema: string) => `
CREATE SCHEMA IF NOT EXISTS ${schema};
SET search_path TO ${schema};
${tablesSql("postgres")}
-- Databases from before Lambda routing was recorded.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS platform TEXT;
`;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * PostgreSQL order store (node-postgres pool). Each statement that must be
 * atomic is one statement (a CTE) or one transaction; the ledger serialises
 * charges per idempotency key with a transaction-scoped advisory lock.
 */
export class PostgresOrderStore implements OrderStore {
  readonly kind = "postgres" as const;
  readonly #pool: pg.Pool;
  #ready: Promise<void>;

  constructor(connectionString: string, options: { schema?: string; poolSize?: number } = {}) {
    const schema = options.schema ?? "surge";
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
    this.#pool = new pg.Pool({
      connectionString,
      max: options.poolSize ?? 10,
      options: `-c search_path=${schema}`,
    });
    // A pool error (a server restart) must not crash the process: queries fail and are retried.
    this.#pool.on("error", () => {});
    this.#ready = this.#migrate(schema);
    this.#ready.catch(() => {});
  }

  async #migrate(schema: string): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock(7345001)");
      try {
        await client.query(schemaSql(schema));
      } finally {
        await client.query("SELECT pg_advisory_unlock(7345001)");
      }
    } finally {
      client.release();
    }
  }

  async #q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    await this.#ready;
    return (await this.#pool.query<R>(sql, params)).rows;
  }

  async #tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.#ready;
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async acceptOrder(order: NewOrder, options: { outbox: boolean }): Promise<{ order: Order; created: boolean }> {
    const params = [
      order.orderId,
      order.customerId,
      JSON.stringify(order.items),
      order.totalCents,
      order.mode,
      order.acceptedAtMs,
      order.idempotencyKey ?? null,
    ];
    const insertOrder = `INSERT INTO orders
        (id, customer_id, items, total_cents, mode, status, attempts, accepted_at, updated_at, idempotency_key)
        VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $7)
        ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING *`;
    // One statement: the order and its outbox row commit together or not at all.
    const rows = options.outbox
      ? await this.#q<OrderRow>(
          `WITH o AS (${insertOrder}),
           x AS (INSERT INTO outbox (order_id, payload, created_at) SELECT id, $8, $6 FROM o)
           SELECT * FROM o`,
          [...params, outboxPayload(order.orderId, order.acceptedAtMs)],
        )
      : await this.#q<OrderRow>(insertOrder, params);
    const created = rows[0];
    if (created) return { order: rowToOrder(created), created: true };
    const existing = await this.#q<OrderRow>("SELECT * FROM orders WHERE customer_id = $1 AND idempotency_key = $2", [
      order.customerId,
      order.idempotencyKey ?? null,
    ]);
    if (!existing[0]) throw new Error(`idempotency conflict without a row for ${order.idempotencyKey}`);
    return { order: rowToOrder(existing[0]), created: false };
  }

  async getOrder(orderId: string): Promise<Order | undefined> {
    const [row] = await this.#q<OrderRow>("SELECT * FROM orders WHERE id = $1", [orderId]);
    return row ? rowToOrder(row) : undefined;
  }

  async claimOrder(orderId: string, holder: string, leaseMs: number): Promise<ClaimResult> {
    const now = Date.now();
    const [claimed] = await this.#q<OrderRow>(
      `UPDATE orders SET status = 'processing', attempts = attempts + 1, lease_holder = $1, lease_until = $2, updated_at = $3
       WHERE id = $4 AND (status IN ('queued', 'failed')
         OR (status = 'processing' AND (lease_until < $3 OR lease_holder = $1)))
       RETURNING *`,
      [holder, now + leaseMs, now, orderId],
    );
    if (claimed) return { kind: "claimed", order: rowToOrder(claimed) };
    const [row] = await this.#q<OrderRow & { lease_until: string | null }>("SELECT * FROM orders WHERE id = $1", [
      orderId,
    ]);
    return unclaimed(row, now);
  }

  async renewLease(orderId: string, holder: string, leaseMs: number): Promise<boolean> {
    const rows = await this.#q(
      "UPDATE orders SET lease_until = $1 WHERE id = $2 AND status = 'processing' AND lease_holder = $3 RETURNING id",
      [Date.now() + leaseMs, orderId, holder],
    );
    return rows.length > 0;
  }

  async markPaid(orderId: string, chargeId: string): Promise<void> {
    const now = Date.now();
    await this.#q(
      `UPDATE orders SET status = 'paid', paid_at = $1, updated_at = $1, charge_id = $2,
       lease_holder = NULL, lease_until = NULL WHERE id = $3 AND status <> 'paid'`,
      [now, chargeId, orderId],
    );
  }

  async releaseOrder(orderId: string, holder: string): Promise<void> {
    await this.#q(
      `UPDATE orders SET status = 'queued', updated_at = $1, lease_holder = NULL, lease_until = NULL
       WHERE id = $2 AND status = 'processing' AND lease_holder = $3`,
      [Date.now(), orderId, holder],
    );
  }

  async markFailed(orderId: string, holder: string, reason: string): Promise<void> {
    await this.#q(
      `UPDATE orders SET status = 'failed', last_error = $1, updated_at = $2, lease_holder = NULL, lease_until = NULL
       WHERE id = $3 AND status = 'processing' AND lease_holder = $4`,
      [reason, Date.now(), orderId, holder],
    );
  }

  async markDead(orderId: string, reason: string): Promise<void> {
    await this.#q(
      `UPDATE orders SET status = 'dead', last_error = $1, updated_at = $2, lease_holder = NULL, lease_until = NULL
       WHERE id = $3 AND status NOT IN ('paid', 'dead')`,
      [reason, Date.now(), orderId],
    );
  }

  async markWaitingDead(reason: string): Promise<string[]> {
    const rows = await this.#q<{ id: string }>(
      `UPDATE orders SET status = 'dead', last_error = $1, updated_at = $2, lease_holder = NULL, lease_until = NULL
       WHERE mode = 'async' AND status IN ('queued', 'failed') RETURNING id`,
      [reason, Date.now()],
    );
    return rows.map((r) => r.id);
  }

  async requeueDead(orderIds?: ReadonlyArray<string>): Promise<string[]> {
    return this.#tx(async (client) => {
      const now = Date.now();
      const { rows } = await client.query<{ id: string; accepted_at: string }>(
        `UPDATE orders SET status = 'queued', updated_at = $1
         WHERE status = 'dead' AND ($2::text[] IS NULL OR id = ANY($2::text[])) RETURNING id, accepted_at`,
        [now, orderIds ? [...orderIds] : null],
      );
      return enqueue(client, rows, now);
    });
  }

  async republishStale(olderThanMs: number, limit: number): Promise<string[]> {
    return this.#tx(async (client) => {
      const now = Date.now();
      // SKIP LOCKED: two API tasks sweeping at once split the stale orders instead of both republishing them.
      const { rows } = await client.query<{ id: string; accepted_at: string }>(
        `UPDATE orders SET updated_at = $1 WHERE id IN (
           SELECT o.id FROM orders o
           WHERE o.mode = 'async' AND o.updated_at < $2 AND o.platform IS NULL
             AND (o.status IN ('queued', 'failed') OR (o.status = 'processing' AND o.lease_until < $1))
             AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.order_id = o.id)
           ORDER BY o.accepted_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING id, accepted_at`,
        [now, now - olderThanMs, limit],
      );
      rows.sort((a, b) => Number(a.accepted_at) - Number(b.accepted_at));
      return enqueue(client, rows, now);
    });
  }

  async recordCharge(charge: Omit<Charge, "chargeId" | "createdAtMs">): Promise<{ charge: Charge; replayed: boolean }> {
    return this.#tx(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [charge.idempotencyKey]);
      const { rows } = await client.query<ChargeRow>(
        "SELECT * FROM payments WHERE idempotency_key = $1 ORDER BY created_at LIMIT 1",
        [charge.idempotencyKey],
      );
      if (rows[0]) return { charge: rowToCharge(rows[0]), replayed: true };
      const created: Charge = { ...charge, chargeId: `ch_${crypto.randomUUID()}`, createdAtMs: Date.now() };
      await client.query(
        `INSERT INTO payments (id, idempotency_key, order_id, amount_cents, processor_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          created.chargeId,
          created.idempotencyKey,
          created.orderId,
          created.amountCents,
          created.processorId,
          created.createdAtMs,
        ],
      );
      return { charge: created, replayed: false };
    });
  }

  async findCharge(idempotencyKey: string): Promise<Charge | undefined> {
    const [row] = await this.#q<ChargeRow>(
      "SELECT * FROM payments WHERE idempotency_key = $1 ORDER BY created_at LIMIT 1",
      [idempotencyKey],
    );
    return row ? rowToCharge(row) : undefined;
  }

  async claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const now = Date.now();
    const rows = await this.#q<OutboxRow>(
      `UPDATE outbox SET lease_until = $1 WHERE id IN
         (SELECT id FROM outbox WHERE lease_until < $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now + leaseMs, now, limit],
    );
    return rows.map(rowToOutboxEntry).sort((a, b) => a.id - b.id);
  }

  async completeOutbox(ids: ReadonlyArray<number>, routes?: ReadonlyArray<PublishedRoute>): Promise<void> {
    if (ids.length === 0) return;
    const { lambda, workers } = ordersByPlatform(routes);
    if (lambda.length === 0 && workers.length === 0) {
      await this.#q("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [[...ids]]);
      return;
    }
    await this.#tx(async (client) => {
      await client.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [[...ids]]);
      if (lambda.length > 0) {
        await client.query("UPDATE orders SET platform = 'lambda' WHERE id = ANY($1::text[]) AND platform IS NULL", [
          lambda,
        ]);
      }
      if (workers.length > 0) {
        await client.query("UPDATE orders SET platform = NULL WHERE id = ANY($1::text[]) AND platform IS NOT NULL", [
          workers,
        ]);
      }
    });
  }

  async outboxStats(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const [row] = await this.#q<{ pending: string; oldest: string | null }>(
      "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox",
    );
    return {
      pending: Number(row?.pending ?? 0),
      oldestAgeSeconds: ageSeconds(row?.oldest),
    };
  }

  async countByStatus(platform?: ProcessingPlatform): Promise<Record<OrderStatus, number>> {
    const counts = emptyStatusCounts();
    const where =
      platform === undefined ? "" : platform === "lambda" ? "WHERE platform = 'lambda'" : "WHERE platform IS NULL";
    const rows = await this.#q<{ status: OrderStatus; n: string }>(
      `SELECT status, COUNT(*) AS n FROM orders ${where} GROUP BY status`,
    );
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  async oldestWaitingAgeSeconds(): Promise<number> {
    const [row] = await this.#q<{ oldest: string | null }>(
      "SELECT MIN(accepted_at) AS oldest FROM orders WHERE mode = 'async' AND status IN ('queued', 'processing', 'failed')",
    );
    return ageSeconds(row?.oldest);
  }

  async oldestUntakenAcceptedAtMs(platform?: ProcessingPlatform): Promise<number | undefined> {
    const filter =
      platform === undefined ? "" : platform === "lambda" ? "AND platform = 'lambda'" : "AND platform IS NULL";
    // One ordered index walk per status (orders_mode_status_accepted) that stops at the first row on the platform.
    const oldest = (status: string) =>
      `(SELECT accepted_at FROM orders WHERE mode = 'async' AND status = '${status}' ${filter} ORDER BY accepted_at LIMIT 1)`;
    const [row] = await this.#q<{ oldest: string | null }>(
      `SELECT LEAST(${oldest("queued")}, ${oldest("failed")}) AS oldest`,
    );
    return row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest);
  }

  async reconcile(): Promise<Reconciliation> {
    const byStatus = await this.countByStatus();
    const [row] = await this.#q<Record<string, string>>(RECONCILE_SQL);
    return toReconciliation(byStatus, row);
  }

  async putRecord<T>(kind: string, id: string, data: T, atMs = Date.now()): Promise<void> {
    await this.#q(
      `INSERT INTO records (kind, id, at, data) VALUES ($1, $2, $3, $4)
       ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at, data = excluded.data`,
      [kind, id, atMs, JSON.stringify(data)],
    );
  }

  async getRecord<T>(kind: string, id: string): Promise<StoredRecord<T> | undefined> {
    const [row] = await this.#q<RecordRow>("SELECT * FROM records WHERE kind = $1 AND id = $2", [kind, id]);
    return row ? rowToRecord<T>(row) : undefined;
  }

  async listRecords<T>(kind: string, options: ListRecordsOptions = {}): Promise<StoredRecord<T>[]> {
    const rows = await this.#q<RecordRow>(
      "SELECT * FROM records WHERE kind = $1 AND at < $2 AND at >= $3 ORDER BY at DESC, id DESC LIMIT $4",
      [kind, options.beforeMs ?? Number.MAX_SAFE_INTEGER, options.sinceMs ?? 0, options.limit ?? 100],
    );
    return rows.map((row) => rowToRecord<T>(row));
  }

  async getSetting<T>(key: string): Promise<T | undefined> {
    const [row] = await this.#q<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async setSetting<T>(key: string, value: T): Promise<void> {
    await this.#q(
      "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [key, JSON.stringify(value)],
    );
  }

  async activitySince(sinceMs: number, limit = 5000) {
    const [counts] = await this.#q<{ accepted: string; paid: string }>(
      `SELECT (SELECT COUNT(*) FROM orders WHERE accepted_at >= $1 AND mode = 'async') AS accepted,
              (SELECT COUNT(*) FROM orders WHERE paid_at >= $1) AS paid`,
      [sinceMs],
    );
    const rows = await this.#q<{ ms: string }>(
      "SELECT paid_at - accepted_at AS ms FROM orders WHERE paid_at >= $1 ORDER BY paid_at DESC LIMIT $2",
      [sinceMs, limit],
    );
    return {
      accepted: Number(counts?.accepted ?? 0),
      paid: Number(counts?.paid ?? 0),
      endToEndMs: rows.map((r) => Number(r.ms)),
    };
  }

  async insertSaleWindow(window: NewSaleWindow): Promise<{ created: SaleWindow } | { overlaps: SaleWindow }> {
    return this.#tx(async (client) => {
      // One booking at a time: the overlap check and the insert must not interleave with another's.
      await client.query("SELECT pg_advisory_xact_lock(7345002)");
      const { rows } = await client.query<SaleWindowRow>(
        `SELECT * FROM sale_windows WHERE cancelled_at IS NULL AND starts_at < $1 AND ends_at > $2
         ORDER BY starts_at LIMIT 1`,
        [window.endsAtMs, window.startsAtMs],
      );
      if (rows[0]) return { overlaps: rowToSaleWindow(rows[0]) };
      await client.query(
        `INSERT INTO sale_windows (${SALE_WINDOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        saleWindowValues(window),
      );
      return { created: { ...window, cancelledAtMs: null } };
    });
  }

  async listSaleWindows(options: { endsAfterMs?: number; limit?: number } = {}): Promise<SaleWindow[]> {
    const rows = await this.#q<SaleWindowRow>(
      "SELECT * FROM sale_windows WHERE ends_at >= $1 ORDER BY starts_at, id LIMIT $2",
      [options.endsAfterMs ?? 0, options.limit ?? 200],
    );
    return rows.map(rowToSaleWindow);
  }

  async getSaleWindow(id: string): Promise<SaleWindow | undefined> {
    const [row] = await this.#q<SaleWindowRow>("SELECT * FROM sale_windows WHERE id = $1", [id]);
    return row ? rowToSaleWindow(row) : undefined;
  }

  async cancelSaleWindow(id: string, atMs: number): Promise<SaleWindow | undefined> {
    const [row] = await this.#q<SaleWindowRow>(
      "UPDATE sale_windows SET cancelled_at = COALESCE(cancelled_at, $1) WHERE id = $2 RETURNING *",
      [atMs, id],
    );
    return row ? rowToSaleWindow(row) : undefined;
  }

  async ping(): Promise<void> {
    await this.#q("SELECT 1");
  }

  async close(): Promise<void> {
    await this.#ready.catch(() => {});
    await this.#pool.end();
  }
}

/** Puts orders back in the outbox (inside the caller's transaction) and returns their ids in order. */
async function enqueue(
  client: pg.PoolClient,
  rows: ReadonlyArray<{ id: string; accepted_at: string }>,
  nowMs: number,
): Promise<string[]> {
  for (const row of rows) {
    await client.query("INSERT INTO outbox (order_id, payload, created_at) VALUES ($1, $2, $3)", [
      row.id,
      outboxPayload(row.id, Number(row.accepted_at)),
      nowMs,
    ]);
  }
  return rows.map((r) => r.id);
}
