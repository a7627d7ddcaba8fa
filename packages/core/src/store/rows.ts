import type { Order, OrderItem, OrderMode, OrderStatus } from "../order.js";
import type { ProcessingPlatform } from "../queue.js";
import type {
  Charge,
  ClaimResult,
  NewSaleWindow,
  OutboxEntry,
  PublishedRoute,
  Reconciliation,
  SaleWindow,
  StoredRecord,
} from "./types.js";

/** A row of `orders` as both SQL dialects return it (PostgreSQL BIGINTs arrive as strings). */
export interface OrderRow {
  id: string;
  customer_id: number | string;
  items: string;
  total_cents: number | string;
  mode: string;
  status: string;
  attempts: number | string;
  accepted_at: number | string;
  paid_at: number | string | null;
  last_error: string | null;
  idempotency_key: string | null;
}

export interface ChargeRow {
  id: string;
  idempotency_key: string;
  order_id: string;
  amount_cents: number | string;
  processor_id: string;
  created_at: number | string;
}

export function rowToOrder(row: OrderRow): Order {
  const order: Order = {
    orderId: row.id,
    customerId: Number(row.customer_id),
    items: JSON.parse(row.items) as OrderItem[],
    totalCents: Number(row.total_cents),
    mode: row.mode as OrderMode,
    status: row.status as OrderStatus,
    attempts: Number(row.attempts),
    acceptedAt: new Date(Number(row.accepted_at)).toISOString(),
  };
  if (row.paid_at !== null) order.paidAt = new Date(Number(row.paid_at)).toISOString();
  if (row.last_error !== null) order.lastError = row.last_error;
  if (row.idempotency_key !== null) order.idempotencyKey = row.idempotency_key;
  return order;
}

export function rowToCharge(row: ChargeRow): Charge {
  return {
    chargeId: row.id,
    idempotencyKey: row.idempotency_key,
    orderId: row.order_id,
    amountCents: Number(row.amount_cents),
    processorId: row.processor_id,
    createdAtMs: Number(row.created_at),
  };
}

export function outboxPayload(orderId: string, acceptedAtMs: number): string {
  return JSON.stringify({ orderId, acceptedAt: new Date(acceptedAtMs).toISOString() });
}

/** Why a claim did not take the order, from its row as it is now. */
export function unclaimed(
  row: (OrderRow & { lease_until: number | string | null }) | undefined,
  nowMs: number,
): ClaimResult {
  if (!row) return { kind: "missing" };
  if (row.status === "paid") return { kind: "paid", order: rowToOrder(row) };
  if (row.status === "dead") return { kind: "dead", order: rowToOrder(row) };
  return { kind: "busy", leaseRemainingMs: Math.max(0, Number(row.lease_until ?? 0) - nowMs) };
}

export function rowToOutboxEntry(row: OutboxRow): OutboxEntry {
  return { id: Number(row.id), orderId: row.order_id, payload: row.payload, createdAtMs: Number(row.created_at) };
}

/** Seconds since a stored epoch-ms time; 0 when there is none. */
export function ageSeconds(atMs: number | string | null | undefined, nowMs = Date.now()): number {
  return atMs ? Math.max(0, (nowMs - Number(atMs)) / 1000) : 0;
}

/** `reconcile()` from the status counts and the row of RECONCILE_SQL. */
export function toReconciliation(
  byStatus: Record<OrderStatus, number>,
  row: Record<string, number | string> | undefined,
): Reconciliation {
  return {
    accepted: Object.values(byStatus).reduce((a, b) => a + b, 0),
    byStatus,
    inProgress: byStatus.queued + byStatus.processing + byStatus.failed,
    charges: Number(row?.charges ?? 0),
    paidTwice: Number(row?.paid_twice ?? 0),
    paidWithoutCharge: Number(row?.paid_without_charge ?? 0),
    deadUnexplained: Number(row?.dead_unexplained ?? 0),
    outboxPending: Number(row?.outbox_pending ?? 0),
  };
}

export interface OutboxRow {
  id: number | string;
  order_id: string;
  payload: string;
  created_at: number | string;
}

export interface RecordRow {
  kind: string;
  id: string;
  at: number | string;
  data: string;
}

export function rowToRecord<T>(row: RecordRow): StoredRecord<T> {
  return { kind: row.kind, id: row.id, atMs: Number(row.at), data: JSON.parse(row.data) as T };
}

/** The published orders by the platform they went to: what completeOutbox records. */
export function ordersByPlatform(routes: ReadonlyArray<PublishedRoute> = []): Record<ProcessingPlatform, string[]> {
  const by: Record<ProcessingPlatform, string[]> = { workers: [], lambda: [] };
  for (const r of routes) by[r.platform].push(r.orderId);
  return by;
}

export interface SaleWindowRow {
  id: string;
  starts_at: number | string;
  ends_at: number | string;
  min_tasks: number;
  lambda_provisioned_concurrency: number | null;
  created_at: number | string;
  created_by: string;
  cancelled_at: number | string | null;
}

/** The sale_windows INSERT: its columns and, in the same order, a window's values, for either store's placeholders. */
export const SALE_WINDOW_COLUMNS =
  "id, starts_at, ends_at, min_tasks, lambda_provisioned_concurrency, created_at, created_by";
export function saleWindowValues(w: NewSaleWindow): Array<string | number | null> {
  return [w.id, w.startsAtMs, w.endsAtMs, w.minTasks, w.lambdaProvisionedConcurrency, w.createdAtMs, w.createdBy];
}

export function rowToSaleWindow(row: SaleWindowRow): SaleWindow {
  return {
    id: row.id,
    startsAtMs: Number(row.starts_at),
    endsAtMs: Number(row.ends_at),
    minTasks: Number(row.min_tasks),
    lambdaProvisionedConcurrency:
      row.lambda_provisioned_concurrency === null ? null : Number(row.lambda_provisioned_concurrency),
    createdAtMs: Number(row.created_at),
    createdBy: row.created_by,
    cancelledAtMs: row.cancelled_at === null ? null : Number(row.cancelled_at),
  };
}
