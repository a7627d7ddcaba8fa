import type { Order, OrderItem, OrderMode, OrderStatus } from "../order.js";
import type { ProcessingPlatform } from "../queue.js";

export interface NewOrder {
  orderId: string;
  customerId: number;
  items: OrderItem[];
  totalCents: number;
  mode: OrderMode;
  acceptedAtMs: number;
  idempotencyKey?: string | undefined;
}

/** What a worker learns when it tries to take an order for processing. */
export type ClaimResult =
  | { kind: "claimed"; order: Order }
  | { kind: "paid"; order: Order }
  | { kind: "dead"; order: Order }
  | { kind: "busy"; leaseRemainingMs: number }
  | { kind: "missing" };

/** Where the outbox relay published an order (its SNS routing attribute). */
export interface PublishedRoute {
  orderId: string;
  platform: ProcessingPlatform;
}

export interface OutboxEntry {
  id: number;
  orderId: string;
  payload: string;
  createdAtMs: number;
}

/** One row of the payment processor's ledger. */
export interface Charge {
  chargeId: string;
  idempotencyKey: string;
  orderId: string;
  amountCents: number;
  processorId: string;
  createdAtMs: number;
}

/** A control-plane record: an audit entry, a scaling activity, a burst, a REPORT line. */
export interface StoredRecord<T> {
  kind: string;
  id: string;
  atMs: number;
  data: T;
}

export interface ListRecordsOptions {
  /** Newest first; at most this many. Default 100. */
  limit?: number;
  /** Only records strictly older than this time (paging). */
  beforeMs?: number;
  /** Only records at or after this time. */
  sinceMs?: number;
}

/** A sale window: the fleet's floor raised to `minTasks` from `startsAtMs` until `endsAtMs`. */
export interface SaleWindow {
  id: string;
  startsAtMs: number;
  endsAtMs: number;
  minTasks: number;
  /** Lambda provisioned concurrency for the window; null when not asked for. */
  lambdaProvisionedConcurrency: number | null;
  createdAtMs: number;
  /** The operator's token label. */
  createdBy: string;
  /** When an operator cancelled it; null while it stands. */
  cancelledAtMs: number | null;
}

export type NewSaleWindow = Omit<SaleWindow, "cancelledAtMs">;

export interface Reconciliation {
  accepted: number;
  byStatus: Record<OrderStatus, number>;
  /** Orders not yet paid or dead: queued, processing or failed-and-retrying. */
  inProgress: number;
  charges: number;
  /** Orders with more than one charge in the ledger. Must be 0. */
  paidTwice: number;
  /** Orders marked paid with no charge behind them. Must be 0. */
  paidWithoutCharge: number;
  /** Dead orders without a recorded reason. Must be 0. */
  deadUnexplained: number;
  outboxPending: number;
}

/**
 * The durable order store: the source of truth for every order's lifecycle,
 * the transactional outbox, and the simulated payment processor's ledger.
 * Implemented by SQLite (embedded default) and PostgreSQL; both pass
 * the same conformance suite (packages/core/test/store.conformance.test.ts).
 */
export interface OrderStore {
  readonly kind: "sqlite" | "postgres";

  /**
   * Records an order and, with `outbox`, its outbox row in one transaction.
   * A repeated (customerId, idempotencyKey) returns the existing order with `created: false`.
   */
  acceptOrder(order: NewOrder, options: { outbox: boolean }): Promise<{ order: Order; created: boolean }>;
  getOrder(orderId: string): Promise<Order | undefined>;

  /** queued/failed (or processing with an expired lease) → processing, attempts + 1. */
  claimOrder(orderId: string, holder: string, leaseMs: number): Promise<ClaimResult>;
  renewLease(orderId: string, holder: string, leaseMs: number): Promise<boolean>;
  /** processing → paid. Idempotent: an order already paid stays as it is. */
  markPaid(orderId: string, chargeId: string): Promise<void>;
  /** processing → queued, only by the lease holder: work interrupted before any charge (shutdown). */
  releaseOrder(orderId: string, holder: string): Promise<void>;
  /** processing → failed (will be retried), only by the lease holder. */
  markFailed(orderId: string, holder: string, reason: string): Promise<void>;
  /** any unpaid status → dead, with the reason kept for the operator. */
  markDead(orderId: string, reason: string): Promise<void>;
  /**
   * queued/failed async orders → dead with `reason` (a purged queue): nothing
   * purged is silently lost; every such order stays explained and redrivable.
   */
  markWaitingDead(reason: string): Promise<string[]>;
  /** dead → queued with a fresh outbox row (DLQ redrive). All dead orders when `orderIds` is absent. */
  requeueDead(orderIds?: ReadonlyArray<string>): Promise<string[]>;
  /**
   * Async orders still waiting (queued, failed, or processing with an expired lease) that nothing
   * has touched for `olderThanMs` and that have no outbox row get a fresh outbox row, oldest first,
   * at most `limit`; their `updated_at` is touched so the next sweep leaves them alone. For messages
   * the broker lost (an in-memory emulator restarted, a queue purged outside Surge): the store is
   * the source of truth, so it can publish them again. A duplicate is harmless (payment is idempotent).
   * Orders last published to Lambda are not candidates: they were never meant to be on the queue.
   */
  republishStale(olderThanMs: number, limit: number): Promise<string[]>;

  /** The payment processor's ledger: records a charge once per idempotency key. */
  recordCharge(charge: Omit<Charge, "chargeId" | "createdAtMs">): Promise<{ charge: Charge; replayed: boolean }>;
  findCharge(idempotencyKey: string): Promise<Charge | undefined>;

  /** Leases up to `limit` unpublished outbox rows, oldest first. */
  claimOutbox(limit: number, leaseMs: number): Promise<OutboxEntry[]>;
  /**
   * Deletes published outbox rows. With `routes`, also records where each order went: the worker
   * fleet's backlog and the stale-order sweep count only the orders the queue should hold.
   */
  completeOutbox(ids: ReadonlyArray<number>, routes?: ReadonlyArray<PublishedRoute>): Promise<void>;
  outboxStats(): Promise<{ pending: number; oldestAgeSeconds: number }>;

  /**
   * Orders by status; with `platform`, only the orders last published to it (`workers` includes the
   * ones never published, which is where an unrouted order goes).
   */
  countByStatus(platform?: ProcessingPlatform): Promise<Record<OrderStatus, number>>;
  /** Age of the oldest async order not yet paid or dead (0 when none): exact, unlike SQS's approximation. */
  oldestWaitingAgeSeconds(): Promise<number>;
  /**
   * When the oldest async order no task holds was accepted (epoch ms; undefined when none): queued,
   * or failed and waiting for its retry. With `platform`, only the orders last published to it
   * (`workers` includes the never-published). The autoscaler's age signal: exact, and the age is
   * taken on the caller's clock.
   */
  oldestUntakenAcceptedAtMs(platform?: ProcessingPlatform): Promise<number | undefined>;
  reconcile(): Promise<Reconciliation>;
  /**
   * What happened since `sinceMs`: async orders accepted, orders paid, and the
   * accept-to-paid times of the paid ones (newest first, at most `limit`).
   */
  activitySince(sinceMs: number, limit?: number): Promise<{ accepted: number; paid: number; endToEndMs: number[] }>;

  /** Writes (or replaces) a control-plane record of `kind` under `id`. */
  putRecord<T>(kind: string, id: string, data: T, atMs?: number): Promise<void>;
  getRecord<T>(kind: string, id: string): Promise<StoredRecord<T> | undefined>;
  listRecords<T>(kind: string, options?: ListRecordsOptions): Promise<StoredRecord<T>[]>;
  /** Durable settings (autoscaling policy, processing target…), JSON values. */
  getSetting<T>(key: string): Promise<T | undefined>;
  setSetting<T>(key: string, value: T): Promise<void>;

  /**
   * Records a sale window unless it overlaps one not cancelled (start < other's end and end > other's
   * start), atomically: two operators cannot book overlapping windows at once. The overlapped window
   * is returned instead.
   */
  insertSaleWindow(window: NewSaleWindow): Promise<{ created: SaleWindow } | { overlaps: SaleWindow }>;
  /** Windows ending at or after `endsAfterMs` (default all), by start time, at most `limit` (default 200). */
  listSaleWindows(options?: { endsAfterMs?: number; limit?: number }): Promise<SaleWindow[]>;
  getSaleWindow(id: string): Promise<SaleWindow | undefined>;
  /** Marks a window cancelled at `atMs`; an already cancelled one keeps its first time. Undefined when unknown. */
  cancelSaleWindow(id: string, atMs: number): Promise<SaleWindow | undefined>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

export function emptyStatusCounts(): Record<OrderStatus, number> {
  return { queued: 0, processing: 0, paid: 0, failed: 0, dead: 0 };
}
