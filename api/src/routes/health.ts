import { errorMessage, type OrderQueue, type OrderStore } from "@surge/core";
import { Router } from "express";
import type { Registry } from "prom-client";

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

export function healthRoutes(deps: { store: OrderStore; queue?: OrderQueue | undefined; registry: Registry }): Router {
  const router = Router();

  router.get("/health", async (_req, res) => {
    const checks = await Promise.allSettled([
      withTimeout(deps.store.ping(), CHECK_TIMEOUT_MS),
      deps.queue ? withTimeout(deps.queue.depth(), CHECK_TIMEOUT_MS) : Promise.reject(new Error("no queue configured")),
    ]);
    const [store, queue] = checks;
    const failing: Record<string, string> = {};
    if (store?.status === "rejected") failing.store = errorMessage(store.reason);
    if (queue?.status === "rejected") failing.queue = errorMessage(queue.reason);
    const ok = Object.keys(failing).length === 0;
    res.status(ok ? 200 : 503).json({
      status: ok ? "ok" : "unavailable",
      store: store?.status === "fulfilled" ? "ok" : "failing",
      queue: queue?.status === "fulfilled" ? "ok" : "failing",
      ...(ok ? {} : { failing }),
    });
  });

  router.get("/metrics", async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });

  return router;
}
