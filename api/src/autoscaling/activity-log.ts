import { randomBytes } from "node:crypto";
import type { OrderStore } from "@surge/core";
import type { ScalingActivity } from "./types.js";

export const ACTIVITY_RECORD_KIND = "scaling-activity";

/** The scaling activity log, persisted as control-plane records in the order store. */
export class ActivityLog {
  #seq = 0;

  constructor(readonly store: OrderStore) {}

  async record(activity: Omit<ScalingActivity, "id" | "at">, nowMs = Date.now()): Promise<ScalingActivity> {
    // Ids sort like the log: time, then a per-process sequence, so activities recorded in the same
    // millisecond (a suspension and the manual scale that caused it) still list in the order they happened.
    const id = `${String(nowMs).padStart(15, "0")}-${String(++this.#seq).padStart(9, "0")}-${randomBytes(3).toString("hex")}`;
    const entry: ScalingActivity = { id, at: new Date(nowMs).toISOString(), ...activity };
    await this.store.putRecord(ACTIVITY_RECORD_KIND, entry.id, entry, nowMs);
    return entry;
  }

  /** An entry that moves no tasks: who took or handed back control of the desired count. */
  recordControl(actor: string, cause: string, source: ScalingActivity["source"], nowMs = Date.now()) {
    return this.record({ actor, direction: "none", status: "successful", from: null, to: null, cause, source }, nowMs);
  }

  /** Dynamic scaling suspended (a manual scale): the policy is off until an operator enables it. */
  recordSuspension(actor: string, reason: string, source: ScalingActivity["source"], nowMs = Date.now()) {
    const cause = `dynamic scaling suspended: ${reason}; enabling the policy (PUT /ops/autoscaling {"enabled": true}) hands control back`;
    return this.recordControl(actor, cause, source, nowMs);
  }

  /** Newest first. */
  async list(limit: number): Promise<ScalingActivity[]> {
    return (await this.store.listRecords<ScalingActivity>(ACTIVITY_RECORD_KIND, { limit })).map((r) => r.data);
  }
}
