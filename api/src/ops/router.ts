import { timingSafeEqual } from "node:crypto";
import express, { type RequestHandler, Router } from "express";
import { HttpError } from "../http/server.js";
import { type Actor, actorOf, type OpsContext, type OpsModule } from "./context.js";

export interface OpsToken {
  token: string;
  label: string;
  role: Actor["role"];
}

/** The only mutations a read-only token may make: delivering alert notifications. */
const ALERT_INGEST_PATHS = new Set(["/alerts", "/alerts/api/v2/alerts"]);

/** Bearer auth: 401 without a known token; 403 when a read-only token tries a mutation. */
function opsAuth(tokens: ReadonlyArray<OpsToken>): RequestHandler {
  const known = tokens.map((t) => ({ ...t, bytes: Buffer.from(t.token) }));
  return (req, res, next) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.get("authorization") ?? "");
    const given = Buffer.from(match?.[1]?.trim() ?? "");
    const found = known.find((t) => t.bytes.length === given.length && timingSafeEqual(t.bytes, given));
    if (!found) {
      res.set("WWW-Authenticate", 'Bearer realm="surge-ops"');
      res.status(401).json({ error: "missing or invalid operator token (Authorization: Bearer <OPS_TOKEN>)" });
      return;
    }
    const actor: Actor = { label: found.label, role: found.role };
    res.locals.actor = actor;
    const mutation = !["GET", "HEAD", "OPTIONS"].includes(req.method);
    // The Grafana contact point (and Prometheus, through the Alertmanager-style receiver) posts
    // alerts with a read-only token: receiving alerts is not control.
    if (mutation && actor.role !== "operator" && !ALERT_INGEST_PATHS.has(req.path)) {
      res.status(403).json({ error: `token "${actor.label}" is read-only` });
      return;
    }
    next();
  };
}

/** Builds `/ops`: auth, JSON bodies, then every module's routes, state and stream. */
export function opsRouter(ctx: OpsContext, tokens: ReadonlyArray<OpsToken>, modules: ReadonlyArray<OpsModule>): Router {
  const router = Router();
  router.use(opsAuth(tokens));
  router.use(express.json({ limit: "256kb" }));
  router.use((req, _res, next) => {
    if (["POST", "PUT", "PATCH"].includes(req.method) && req.body === undefined && req.get("content-length") !== "0") {
      if (req.get("content-type") && !req.is("application/json")) {
        next(new HttpError(415, "content-type must be application/json"));
        return;
      }
    }
    next();
  });

  router.get("/state", async (_req, res) => {
    res.json(await ctx.state.snapshot());
  });

  // Server-sent events: the same snapshot every second until the client goes away.
  router.get("/stream", (req, res) => {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    let busy = false;
    const send = async () => {
      if (busy) return; // a slow snapshot is skipped, never queued
      busy = true;
      try {
        res.write(`event: state\ndata: ${JSON.stringify(await ctx.state.snapshot())}\n\n`);
      } finally {
        busy = false;
      }
    };
    void send();
    const timer = setInterval(() => void send(), 1000);
    req.on("close", () => clearInterval(timer));
  });

  router.get("/audit", async (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 200) || 200));
    const action = typeof req.query.action === "string" ? req.query.action : undefined;
    const actor = typeof req.query.actor === "string" ? req.query.actor : undefined;
    const entries = (await ctx.audit.list({ limit: action || actor ? 1000 : limit })).filter(
      (e) => (!action || e.action.startsWith(action)) && (!actor || e.actor === actor),
    );
    res.json({ entries: entries.slice(0, limit) });
  });

  router.get("/whoami", (_req, res) => {
    res.json(actorOf(res));
  });

  router.get("/orders/reconcile", async (_req, res) => {
    const r = await ctx.store.reconcile();
    const ok = r.paidTwice === 0 && r.paidWithoutCharge === 0 && r.deadUnexplained === 0;
    res.json({ ok, ...r });
  });

  for (const module of modules) module.routes(router, ctx);
  return router;
}
