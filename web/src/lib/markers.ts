/**
 * Operator actions from the audit log as timeline markers, with their actor. One row per audited
 * action worth seeing beside the curves; a new kind of action (a sale schedule) is one more row.
 */
import { changes } from "./audit";
import type { AuditEntry, SchedulesView } from "./ops";
import type { Marker, MarkerKind } from "./timeline";

type Described = { kind: MarkerKind; label: string; detail?: string };

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;

const changeList = (entry: AuditEntry) =>
  changes(entry.before, entry.after)
    .map((c) => `${c.field} ${c.from || "—"} → ${c.to || "—"}`)
    .join(", ");

const AUDIT_MARKERS: Record<string, (entry: AuditEntry) => Described | undefined> = {
  "processing.target": (e) => ({
    kind: "routing",
    label: `route → ${String(field(e.after, "target") ?? "?")}`,
    detail: `orders routed from ${String(field(e.before, "target") ?? "?")} to ${String(field(e.after, "target") ?? "?")}`,
  }),
  "dlq.redrive": (e) => ({
    kind: "redrive",
    label: `redrive ${String(field(e.after, "redriven") ?? "?")}`,
    detail: `${String(field(e.after, "redriven") ?? "?")} dead letters sent back to the queue, ${String(field(e.after, "skipped") ?? 0)} skipped`,
  }),
  "autoscaling.policy": (e) => {
    const was = field(e.before, "enabled");
    const is = field(e.after, "enabled");
    const detail = changeList(e);
    if (was !== is) return { kind: "policy", label: is ? "autoscaler on" : "autoscaler off", detail };
    return detail ? { kind: "policy", label: "policy changed", detail } : undefined;
  },
  "queue.purge.orders": (e) => ({ kind: "purge", label: "queue purged", detail: changeList(e) }),
  "queue.purge.dlq": (e) => ({ kind: "purge", label: "DLQ purged", detail: changeList(e) }),
};

/** An audit entry as a marker, or undefined for actions the timeline does not show. */
export function auditMarker(entry: AuditEntry): Marker | undefined {
  const at = Date.parse(entry.at);
  const described = Number.isFinite(at) ? AUDIT_MARKERS[entry.action]?.(entry) : undefined;
  if (!described) return undefined;
  return {
    id: `audit:${entry.id}`,
    at,
    by: entry.actor,
    kind: described.kind,
    label: described.label,
    ...(described.detail && { detail: described.detail }),
  };
}

/**
 * Sale windows' starts and ends that have happened by `nowMs`, as markers. A window cancelled before
 * its start never began: it has none; one cancelled while active ends at its cancellation.
 */
export function saleWindowMarkers(schedules: SchedulesView | undefined, nowMs: number): Marker[] {
  if (!schedules || !Number.isFinite(nowMs)) return [];
  const out: Marker[] = [];
  for (const w of schedules.windows) {
    const start = Date.parse(w.startsAt);
    const cancelled = w.cancelledAt === null ? Number.POSITIVE_INFINITY : Date.parse(w.cancelledAt);
    if (start > nowMs || cancelled <= start) continue;
    const pc = w.lambdaProvisionedConcurrency === null ? "" : `, ${w.lambdaProvisionedConcurrency} provisioned Lambda`;
    out.push({
      id: `sale-start:${w.id}`,
      at: start,
      kind: "sale",
      by: w.createdBy,
      label: `sale: floor ${w.minTasks}`,
      detail: `sale window starts: at least ${w.minTasks} tasks until ${w.endsAt}${pc}`,
    });
    const end = Math.min(Date.parse(w.endsAt), cancelled);
    if (end <= nowMs) {
      out.push({
        id: `sale-end:${w.id}`,
        at: end,
        kind: "sale",
        by: w.createdBy,
        label: cancelled === end ? "sale cancelled" : "sale over",
        detail: `sale window ${cancelled === end ? "cancelled" : "ends"}: the floor of ${w.minTasks} tasks is lifted`,
      });
    }
  }
  return out;
}
