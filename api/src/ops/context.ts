import type { Logger, OrderQueue, OrderStore } from "@surge/core";
import type { Request, Response, Router } from "express";
import type { ApiMetrics } from "../metrics.js";
import type { AuditLog } from "./audit.js";
import type { OpsState } from "./state.js";

/** Who made an ops request: the label of the token they presented. */
export interface Actor {
  label: string;
  role: "operator" | "read-only";
}

/** What every ops module gets. */
export interface OpsContext {
  store: OrderStore;
  queue?: OrderQueue | undefined;
  log: Logger;
  metrics: ApiMetrics;
  audit: AuditLog;
  /** The `/ops/state` snapshot is assembled from sections that modules register. */
  state: OpsState;
}

/**
 * An ops module adds its routes to the authenticated `/ops` router and, if it
 * has live figures, registers a section of the state snapshot. Its `close()`
 * stops any background work it started.
 */
export interface OpsModule {
  name: string;
  routes(router: Router, ctx: OpsContext): void;
  close?(): Promise<void>;
}

export function actorOf(res: Response): Actor {
  return (res.locals.actor as Actor | undefined) ?? { label: "unknown", role: "read-only" };
}

export function requestId(req: Request): string {
  return req.get("x-request-id") ?? "";
}
