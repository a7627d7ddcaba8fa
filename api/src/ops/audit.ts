import type { OrderStore } from "@surge/core";
import { newOrderId } from "@surge/core";
import type { Actor } from "./context.js";

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  before?: unknown;
  after?: unknown;
  detail?: string;
}

/** Every control action, who did it, and what changed: persisted in the store. */
export class AuditLog {
  constructor(readonly store: OrderStore) {}

  async record(
    actor: Actor | string,
    action: string,
    change: { before?: unknown; after?: unknown; detail?: string } = {},
  ) {
    const now = Date.now();
    const entry: AuditEntry = {
      id: newOrderId(now),
      at: new Date(now).toISOString(),
      actor: typeof actor === "string" ? actor : actor.label,
      action,
      ...change,
    };
    await this.store.putRecord("audit", entry.id, entry, now);
    return entry;
  }

  async list(options: { limit?: number; beforeMs?: number; sinceMs?: number } = {}): Promise<AuditEntry[]> {
    return (await this.store.listRecords<AuditEntry>("audit", options)).map((r) => r.data);
  }
}
