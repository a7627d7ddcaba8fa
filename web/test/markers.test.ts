import { describe, expect, it } from "vitest";
import { activityMarker } from "../src/lib/derive";
import { auditMarker } from "../src/lib/markers";
import type { AuditEntry, ScalingActivity } from "../src/lib/ops";

const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  id: "e1",
  at: new Date(9000).toISOString(),
  actor: "alice",
  action: "processing.target",
  ...over,
});

describe("operator actions on the timeline", () => {
  it("marks routing changes, redrives, policy changes and purges with their actor", () => {
    expect(auditMarker(entry({ before: { target: "workers" }, after: { target: "lambda" } }))).toEqual({
      id: "audit:e1",
      at: 9000,
      kind: "routing",
      by: "alice",
      label: "route → lambda",
      detail: "orders routed from workers to lambda",
    });
    expect(
      auditMarker(entry({ action: "dlq.redrive", actor: "bob", after: { redriven: 24, skipped: 1 } })),
    ).toMatchObject({ kind: "redrive", by: "bob", label: "redrive 24", detail: expect.stringContaining("1 skipped") });
    expect(
      auditMarker(
        entry({
          action: "autoscaling.policy",
          before: { enabled: false, maxTasks: 8 },
          after: { enabled: true, maxTasks: 8 },
        }),
      ),
    ).toMatchObject({ kind: "policy", label: "autoscaler on", detail: "enabled false → true" });
    expect(
      auditMarker(
        entry({
          action: "autoscaling.policy",
          before: { enabled: true, maxTasks: 8 },
          after: { enabled: true, maxTasks: 10 },
        }),
      ),
    ).toMatchObject({ kind: "policy", label: "policy changed", detail: "maxTasks 8 → 10" });
    expect(auditMarker(entry({ action: "queue.purge.dlq", before: { depth: 3 }, after: { depth: 0 } }))).toMatchObject({
      kind: "purge",
      label: "DLQ purged",
    });
  });

  it("leaves out what the timeline shows from elsewhere, or nothing changed", () => {
    expect(auditMarker(entry({ action: "burst.start" }))).toBeUndefined();
    expect(auditMarker(entry({ action: "fleet.update" }))).toBeUndefined();
    expect(
      auditMarker(entry({ action: "autoscaling.policy", before: { maxTasks: 8 }, after: { maxTasks: 8 } })),
    ).toBeUndefined();
    expect(auditMarker(entry({ at: "not a time" }))).toBeUndefined();
  });

  it("does not mark a policy change twice (the audit entry, not the control activity)", () => {
    const control: ScalingActivity = {
      id: "a1",
      at: new Date(9000).toISOString(),
      actor: "alice",
      direction: "none",
      status: "successful",
      from: null,
      to: null,
      cause: "alice enabled the policy: the autoscaler controls the desired count (1..8 tasks, target 10/task)",
      source: "local",
    };
    expect(activityMarker(control)).toBeUndefined();
  });
});
