import { newOrderId, type OrderStore } from "@surge/core";
import type { ScalingActivity } from "./types.js";

export const ACTIVITY_RECORD_KIND = "scaling-activity";

/** The scaling activity log, persisted as control-plane records in the order store. */
export class ActivityLog {
  constructor(readonly store: OrderStore) {}

  async record(activity: Omit<ScalingActivity, "id" | "at">, nowMs = Date.now()): Promise<ScalingActivity> {
    // Time-ordered ids: activities written in the same millisecond still list in order.
    const entry: ScalingActivity = { id: newOrderId(nowMs), at: new Date(nowMs).toISOString(), ...activity };
    await this.store.putRecord(ACTIVITY_RECORD_KIND, entry.id, entry, nowMs);
    return entry;
  }

  /** Newest first. */
  async list(limit: number): Promise<ScalingActivity[]> {
    return (await this.store.listRecords<ScalingActivity>(ACTIVITY_RECORD_KIND, { limit })).map((r) => r.data);
  }
}
