/**
 * The ops API's shapes as the console reads them, imported type-only from the API's contract so
 * a contract change breaks the type check, not the page. Any section may be `{error}`: read via `section()`.
 */

import type {
  AlertsSection,
  AlertView,
  AuditEntry,
  AutoscalingState,
  FleetView,
  LambdaLive,
  LambdaReportView,
  LambdaSummary,
  ScalingActivity,
  ScalingSignals,
  SchedulesView,
} from "@surge/api/contract";
import type {
  BURST_BOUNDS,
  TimelinePoint as BurstSecond,
  BurstSpec,
  BurstStats,
  LatencySummaryMs,
} from "@surge/loadgen";

export type {
  AlertsSection,
  AlertView,
  AuditEntry,
  AutoscalingState,
  BurstSecond,
  BurstSpec,
  BurstStats,
  FleetView,
  LambdaLive,
  LambdaReportView,
  LambdaSummary,
  LatencySummaryMs,
  ScalingActivity,
  ScalingSignals,
  SchedulesView,
};

export type BurstBounds = typeof BURST_BOUNDS;
export type BurstSummary = Omit<BurstStats, "timeline">;

export type AutoscalingView = AutoscalingState & { signals: ScalingSignals | { error: string } };

/** The `queue` section (api/src/ops/modules/queue.ts). */
export interface QueueSection {
  visible: number;
  inFlight: number;
  delayed: number;
  dlq: number;
  oldestAgeSeconds: number;
  /** Orders waiting (store: queued + failed awaiting retry). */
  backlog?: number;
  /** Orders in the store by status: the exact counts the rates are derived from. */
  orders?: Partial<Record<"queued" | "processing" | "paid" | "failed" | "dead", number>>;
  outboxPending?: number;
  /** The backlog split by where the orders were published (workers includes unpublished ones). */
  byPlatform?: Record<"workers" | "lambda", { waiting: number; processing: number }>;
}

/** Orders published to the Lambda function, from the store: dead ones are the only lost ones. */
export interface LambdaOrders {
  waiting: number;
  processing: number;
  paid: number;
  dead: number;
}

/** The `bursts` section. */
interface BurstsSection {
  active: BurstStats | null;
  last: BurstSummary | null;
  bounds: BurstBounds;
}

/** The `rates` section: exact from the store over a short sliding window. */
interface RatesSection {
  windowSeconds: number;
  acceptedPerSecond: number;
  processedPerSecond: number;
}

/** The `latency` section: end-to-end (202 → paid) over the last minute, exact from the store; null with no payment. */
interface LatencySection {
  windowSeconds: number;
  samples: number;
  endToEndP50Seconds: number | null;
  endToEndP99Seconds: number | null;
  endToEndMaxSeconds: number | null;
}

/** The `faults` section: game-day fault injection in force. */
interface FaultsSection {
  paymentOutage: boolean;
  paymentOutageRemainingSeconds: number;
  paymentOutageUntil?: string;
  paymentFailureRate: number | null;
}

/** The `lambda` section: the function now, and its last 15 minutes. */
type LambdaSection = LambdaLive & { lastFifteenMinutes: Omit<LambdaSummary, "bins">; orders?: LambdaOrders };

/** GET /ops/lambda. */
export interface LambdaView {
  source: LambdaLive["source"];
  functionName: string;
  processing: ProcessingTarget;
  live: LambdaLive;
  summary: LambdaSummary;
  recentReports: LambdaReportView[];
  orders?: LambdaOrders;
}

export const PROCESSING_TARGETS = ["workers", "lambda", "both"] as const;
export type ProcessingTarget = (typeof PROCESSING_TARGETS)[number];

/** The `processing` section and GET /ops/processing. */
interface ProcessingSection {
  target: ProcessingTarget;
  lambdaConfigured: boolean;
}

/** GET /ops/cost: both monthly bills for a volume (api/src/ops/modules/lambda.ts). */
export interface CostView {
  input: {
    ordersPerMonth: number;
    paymentDurationMs: number;
    memoryMb: number;
    minTasks: number;
    slotsPerTask: number;
    freeTier: boolean;
    hoursPerMonth: number;
    taskSize: { vcpu: number; memoryGb: number };
  };
  lambda: { invocations: number; gbSeconds: number; requestsUsd: number; computeUsd: number; totalUsd: number };
  fargate: { taskHours: number; baselineTaskHours: number; workTaskHours: number; totalUsd: number };
  cheaper: "lambda" | "fargate" | "equal";
  breakEvenOrders: number | null;
  freeTierOrders: number;
  fargateTaskHourUsd: number;
}

/** GET /ops/cost/observed: what a window or a burst actually cost. */
export interface ObservedCostView {
  window: { sinceMs: number; untilMs: number; burstId?: string };
  fargate: {
    taskSeconds: number;
    tasksAtStart: number;
    scalingChanges: number;
    taskSize: { vcpu: number; memoryGb: number };
    taskHours: number;
    totalUsd: number;
  };
  lambda?: { invocations: number; coldStarts: number; billedGbSeconds: number; totalUsd: number } | { error: string };
  burstOrders?: {
    orders: number;
    /** Null when the workers paid none of the burst's orders. */
    fargateObservedPerOrderUsd: number | null;
    onLambdaUsd: number;
    paidByWorkers?: number;
    paidByLambda?: number;
  };
}

/** One DLQ message (GET /ops/dlq). */
interface DeadLetterView {
  messageId: string;
  body: string;
  orderId?: string;
  reason: string;
  sentAt: string;
  order?: {
    status: string;
    customerId: number;
    totalCents: number;
    attempts: number;
    acceptedAt: string;
    lastError?: string;
  };
}

export interface DlqView {
  count: number;
  deadOrders: number;
  messages: DeadLetterView[];
}

/** The whole `/ops/state` snapshot: every section optional, any section possibly an error. */
export interface OpsSnapshot {
  at: string;
  queue?: QueueSection | SectionError;
  fleet?: FleetView | SectionError;
  autoscaling?: AutoscalingView | SectionError;
  bursts?: BurstsSection | SectionError;
  alerts?: AlertsSection | SectionError;
  rates?: RatesSection | SectionError;
  latency?: LatencySection | SectionError;
  faults?: FaultsSection | SectionError;
  lambda?: LambdaSection | SectionError;
  processing?: ProcessingSection | SectionError;
  schedules?: SchedulesView | SectionError;
  [section: string]: unknown;
}

interface SectionError {
  error: string;
}

export interface Whoami {
  label: string;
  role: "operator" | "read-only";
}

function isSectionError(value: unknown): value is SectionError {
  return typeof value === "object" && value !== null && "error" in value && Object.keys(value).length === 1;
}

/**
 * A section of the snapshot: `{ok: true, value}` when present and healthy,
 * `{ok: false, error}` when the API reported it failing, `{ok: false}` when absent.
 */
export function section<K extends keyof OpsSnapshot>(
  snapshot: OpsSnapshot | undefined,
  key: K,
): { ok: true; value: Exclude<NonNullable<OpsSnapshot[K]>, SectionError> } | { ok: false; error?: string } {
  const value = snapshot?.[key];
  if (value === undefined || value === null) return { ok: false };
  if (isSectionError(value)) return { ok: false, error: value.error };
  return { ok: true, value: value as Exclude<NonNullable<OpsSnapshot[K]>, SectionError> };
}

/** The section's value, or undefined. */
export function pick<K extends keyof OpsSnapshot>(
  snapshot: OpsSnapshot | undefined,
  key: K,
): Exclude<NonNullable<OpsSnapshot[K]>, SectionError> | undefined {
  const s = section(snapshot, key);
  return s.ok ? s.value : undefined;
}
