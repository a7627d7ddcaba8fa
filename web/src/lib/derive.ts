/**
 * From `/ops/state` snapshots to timeline points and markers. Pure, so the
 * rules (what counts as the accept rate, when a burst "ended", who scaled) are
 * unit-tested apart from any stream.
 */

import { num, seconds } from "./format";
import { saleWindowMarkers } from "./markers";
import {
  type BurstStats,
  type BurstSummary,
  type OpsSnapshot,
  pick,
  type QueueSection,
  type ScalingActivity,
} from "./ops";
import { emptyPoint, type Marker, type TimelinePoint } from "./timeline";

/** What the previous snapshot left behind for computing rates. */
export interface RateMemory {
  atMs: number;
  /** Orders in the store, every status: grows by one per accepted order. */
  totalOrders: number;
  /** Paid orders: grows by one per payment. */
  paidOrders: number;
}

function totals(queue: QueueSection | undefined): { total: number; paid: number } | undefined {
  const orders = queue?.orders;
  if (!orders) return undefined;
  let total = 0;
  for (const n of Object.values(orders)) total += typeof n === "number" ? n : 0;
  return { total, paid: orders.paid ?? 0 };
}

/**
 * Rates differenced from the store's exact counts, one point a second (the API's 10 s `rates`
 * window would smear a burst's edges; it is the fallback). A count that went down yields no rate.
 */
export function derivePoint(
  snapshot: OpsSnapshot,
  previous: RateMemory | undefined,
): { point: TimelinePoint; memory: RateMemory | undefined } {
  const atMs = Date.parse(snapshot.at);
  const point = emptyPoint(Number.isFinite(atMs) ? atMs : Date.now());
  const queue = pick(snapshot, "queue");
  if (queue) {
    point.visible = queue.visible;
    point.inFlight = queue.inFlight;
    point.dlq = queue.dlq;
    point.oldestAgeSeconds = queue.oldestAgeSeconds;
  }
  const fleet = pick(snapshot, "fleet");
  if (fleet) {
    point.desiredTasks = fleet.desiredCount;
    point.runningTasks = fleet.running;
  }
  const latency = pick(snapshot, "latency");
  if (latency) {
    if (typeof latency.endToEndP50Seconds === "number") point.p50Ms = latency.endToEndP50Seconds * 1000;
    if (typeof latency.endToEndP99Seconds === "number") point.p99Ms = latency.endToEndP99Seconds * 1000;
  }
  const rates = pick(snapshot, "rates");
  const counts = totals(queue);
  let memory: RateMemory | undefined;
  if (counts) {
    memory = { atMs: point.t, totalOrders: counts.total, paidOrders: counts.paid };
    if (previous) {
      const dt = (point.t - previous.atMs) / 1000;
      // Gaps longer than a few seconds (an outage) would smear one average over the gap.
      if (dt > 0.2 && dt <= 5) {
        const accepted = counts.total - previous.totalOrders;
        const paid = counts.paid - previous.paidOrders;
        if (accepted >= 0) point.acceptPerSecond = accepted / dt;
        if (paid >= 0) point.processPerSecond = paid / dt;
      }
    }
  } else if (rates) {
    point.acceptPerSecond = rates.acceptedPerSecond;
    point.processPerSecond = rates.processedPerSecond;
  }
  return { point, memory };
}

function burstLabel(spec: BurstStats["spec"]): string {
  return spec.model === "users"
    ? `${spec.users} users ${spec.mode}`
    : `${spec.ratePerSecond}/s ${spec.mode} (arrival rate)`;
}

/** Markers for a burst: its start, and its end once it has one. */
export function burstMarkers(burst: BurstSummary | BurstStats): Marker[] {
  const markers: Marker[] = [];
  const start = Date.parse(burst.startedAt);
  if (Number.isFinite(start)) {
    markers.push({
      id: `burst-start:${burst.id}`,
      at: start,
      kind: "burst-start",
      by: burst.startedBy,
      label: `burst start: ${burstLabel(burst.spec)}`,
      detail: `${burst.spec.durationSeconds} s burst against ${burst.target}`,
    });
  }
  const end = burst.endedAt ? Date.parse(burst.endedAt) : Number.NaN;
  if (burst.status !== "running" && Number.isFinite(end)) {
    markers.push({
      id: `burst-end:${burst.id}`,
      at: end,
      kind: "burst-end",
      by: burst.startedBy,
      label: `burst ${burst.status}`,
      detail: `${burst.requests} requests, ${burst.failures} failed, ${Math.round(burst.throughputPerSecond * 100) / 100} req/s`,
    });
  }
  return markers;
}

/** A scaling activity as a marker; held activities are not drawn (nothing changed). */
export function activityMarker(activity: ScalingActivity): Marker | undefined {
  const at = Date.parse(activity.at);
  if (!Number.isFinite(at)) return undefined;
  if (activity.status === "held" || activity.status === "failed") return undefined;
  // Taking or handing back control is an audited policy change: lib/markers.ts marks it, once.
  if (activity.direction === "none") return undefined;
  const change =
    activity.from !== null && activity.to !== null ? `${activity.from} → ${activity.to}` : `→ ${activity.to ?? "?"}`;
  return {
    id: `activity:${activity.id}`,
    at,
    kind: activity.direction === "out" ? "scale-out" : "scale-in",
    by: activity.actor,
    label: `scale ${change}`,
    detail: activity.cause,
  };
}

/**
 * Markers visible in a snapshot alone: sale windows' starts and ends, the active burst's start, and
 * the last burst's end. (Scaling markers come from the activity log, which says who.)
 */
export function snapshotMarkers(snapshot: OpsSnapshot): Marker[] {
  const out: Marker[] = saleWindowMarkers(pick(snapshot, "schedules"), Date.parse(snapshot.at));
  const bursts = pick(snapshot, "bursts");
  if (!bursts) return out;
  if (bursts.active) out.push(...burstMarkers(bursts.active));
  if (bursts.last) out.push(...burstMarkers(bursts.last));
  return out;
}

/** Keeps markers unique by id, time-ordered, and within the window. */
export function mergeMarkers(existing: Marker[], incoming: Marker[], oldestMs: number): Marker[] {
  const byId = new Map(existing.map((m) => [m.id, m]));
  let changed = false;
  for (const m of incoming) {
    const had = byId.get(m.id);
    if (!had || had.at !== m.at || had.label !== m.label || had.detail !== m.detail) {
      byId.set(m.id, m);
      changed = true;
    }
  }
  const kept = [...byId.values()].filter((m) => m.at >= oldestMs);
  if (!changed && kept.length === existing.length) return existing;
  return kept.sort((a, b) => a.at - b.at);
}

/** Rates within this of each other (orders/s) read as "keeping pace": per-second counts are noisy. */
export const RATE_NOISE_PER_SECOND = 0.5;

/** How long the waiting orders take to clear, from the same two rates the tiles show. */
export type DrainEstimate =
  | { kind: "unknown" }
  /** Nothing waiting, and arrivals do not outrun processing. */
  | { kind: "empty" }
  /** Arrivals outrun processing: no finite time; the queue grows by `netPerSecond`. */
  | { kind: "growing"; netPerSecond: number }
  /** Waiting orders clear in `seconds` at the net rate `netPerSecond` (processing − arrivals). */
  | { kind: "draining"; seconds: number; netPerSecond: number }
  /** Orders wait, processing keeps pace with arrivals: the backlog neither grows nor shrinks. */
  | { kind: "steady" }
  /** Orders wait and nothing is paid. */
  | { kind: "stalled" };

/**
 * One rule for the Overview's drain ETA and the capacity planner's: orders waiting on every
 * platform, arrivals and processing per second. `noise` (orders/s) is the measured rates' jitter;
 * the planner's modelled rates are exact (0).
 */
export function drainEstimate(input: {
  waiting: number | undefined;
  arrivalPerSecond: number;
  processingPerSecond: number;
  noise?: number;
}): DrainEstimate {
  const { waiting, arrivalPerSecond: arrival, processingPerSecond: processing } = input;
  const noise = input.noise ?? RATE_NOISE_PER_SECOND;
  if (waiting === undefined || !Number.isFinite(waiting) || !Number.isFinite(arrival) || !Number.isFinite(processing)) {
    return { kind: "unknown" };
  }
  const net = processing - arrival;
  if (-net > noise) return { kind: "growing", netPerSecond: -net };
  if (waiting <= 0) return { kind: "empty" };
  if (net > noise || (noise === 0 && net > 0)) return { kind: "draining", seconds: waiting / net, netPerSecond: net };
  return processing > 0 ? { kind: "steady" } : { kind: "stalled" };
}

/** The estimate in words, as a tile shows it: value, hint and severity. */
export function drainText(estimate: DrainEstimate): {
  value: string;
  hint: string;
  severity: "ok" | "warning" | "critical";
} {
  switch (estimate.kind) {
    case "unknown":
      return { value: "—", hint: "rates not yet measured", severity: "ok" };
    case "empty":
      return { value: "0 s", hint: "nothing waiting", severity: "ok" };
    case "growing":
      return {
        value: `growing +${num(estimate.netPerSecond)}/s`,
        hint: "arrivals outrun payments",
        severity: "warning",
      };
    case "draining":
      return {
        value: seconds(estimate.seconds),
        hint: `shrinking ${num(estimate.netPerSecond)}/s`,
        severity: "ok",
      };
    case "steady":
      return { value: "not shrinking", hint: "paid as fast as arriving", severity: "warning" };
    case "stalled":
      return { value: "never", hint: "orders wait, none paid", severity: "critical" };
  }
}
