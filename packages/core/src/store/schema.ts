/** The tables both SQL stores keep; only the integer and auto-increment types differ by dialect. */
export function tablesSql(dialect: "sqlite" | "postgres"): string {
  const int = dialect === "postgres" ? "BIGINT" : "INTEGER";
  const serial = dialect === "postgres" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  return `
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  customer_id ${int} NOT NULL,
  items TEXT NOT NULL,
  total_cents ${int} NOT NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  accepted_at ${int} NOT NULL,
  updated_at ${int} NOT NULL,
  paid_at ${int},
  charge_id TEXT,
  last_error TEXT,
  lease_holder TEXT,
  lease_until ${int},
  idempotency_key TEXT,
  -- Where the relay last published the order: NULL for the worker fleet (the default route), 'lambda'.
  platform TEXT,
  UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS orders_mode_status_accepted ON orders (mode, status, accepted_at);
CREATE INDEX IF NOT EXISTS orders_accepted ON orders (accepted_at);
CREATE INDEX IF NOT EXISTS orders_paid ON orders (paid_at);
CREATE TABLE IF NOT EXISTS outbox (
  id ${serial},
  order_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at ${int} NOT NULL,
  lease_until ${int} NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL,
  order_id TEXT NOT NULL,
  amount_cents ${int} NOT NULL,
  processor_id TEXT NOT NULL,
  created_at ${int} NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_idempotency_key ON payments (idempotency_key);
CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  at ${int} NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_kind_at ON records (kind, at);
CREATE TABLE IF NOT EXISTS sale_windows (
  id TEXT PRIMARY KEY,
  starts_at ${int} NOT NULL,
  ends_at ${int} NOT NULL,
  min_tasks INTEGER NOT NULL,
  lambda_provisioned_concurrency INTEGER,
  created_at ${int} NOT NULL,
  created_by TEXT NOT NULL,
  cancelled_at ${int}
);
CREATE INDEX IF NOT EXISTS sale_windows_ends ON sale_windows (ends_at);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
}

/** The ledger checks behind `reconcile()`, one row of counts; valid SQL in both dialects. */
export const RECONCILE_SQL = `SELECT
  (SELECT COUNT(*) FROM payments) AS charges,
  (SELECT COUNT(*) FROM (SELECT order_id FROM payments GROUP BY order_id HAVING COUNT(*) > 1) t) AS paid_twice,
  (SELECT COUNT(*) FROM orders o WHERE o.status = 'paid'
     AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)) AS paid_without_charge,
  (SELECT COUNT(*) FROM orders WHERE status = 'dead' AND last_error IS NULL) AS dead_unexplained,
  (SELECT COUNT(*) FROM outbox) AS outbox_pending`;
