/**
 * Operator actions from the audit log as timeline markers, with their actor. One row per audited
 * action worth seeing beside the curves; a new kind of action (a sale schedule) is one more row.
 */
import { changes } from "./audit";
import type { AuditEntry } from "./ops";
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
