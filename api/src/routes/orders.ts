import {
  MAX_ORDER_BODY_BYTES,
  newOrderId,
  type Order,
  type OrderStore,
  type PaymentProcessor,
  PaymentUnavailableError,
  parseOrderInput,
  processOrder,
  totalCents,
  withHeartbeat,
} from "@surge/core";
import express, { type Response, Router } from "express";
import { HttpError, requireJson } from "../http/server.js";
import type { ApiMetrics } from "../metrics.js";
import type { AdmissionControl, Refusal } from "../ops/modules/intake.js";

interface OrderRouteDeps {
  store: OrderStore;
  payments: PaymentProcessor;
  metrics: ApiMetrics;
  /** Lease holder name for synchronous payments made by this API process. */
  holder: string;
  /** Wakes the outbox relay after an async accept commits. */
  onAccepted?: () => void;
  /** Admission control (PUT /ops/intake, SYNC_MAX_WAIT_MS); without it every order is let in. */
  admission?: AdmissionControl | undefined;
}

/** A refused order was never recorded: the answer says when to come back. */
function refuse(res: Response, refusal: Refusal): void {
  res.status(refusal.status).set("Retry-After", String(refusal.retryAfterSeconds)).json(refusal.body);
}

/** The public view of an order: what `GET /orders/:id` answers. */
function orderView(order: Order) {
  return {
    orderId: order.orderId,
    status: order.status,
    acceptedAt: order.acceptedAt,
    ...(order.paidAt && { paidAt: order.paidAt }),
    attempts: order.attempts,
    customerId: order.customerId,
    totalCents: order.totalCents,
    mode: order.mode,
    ...(order.lastError && { lastError: order.lastError }),
  };
}

const SYNC_LEASE_MS = 30_000;

export function orderRoutes(deps: OrderRouteDeps): Router {
  const router = Router();
  const json = express.json({ limit: MAX_ORDER_BODY_BYTES, strict: false });

  const accept = async (body: unknown, mode: "sync" | "async") => {
    const input = parseOrderInput(body);
    const result = await deps.store.acceptOrder(
      {
        orderId: newOrderId(),
        customerId: input.customerId,
        items: input.items,
        totalCents: totalCents(input.items),
        mode,
        acceptedAtMs: Date.now(),
        idempotencyKey: input.idempotencyKey,
      },
      { outbox: mode === "async" },
    );
    if (result.created) deps.metrics.accepted.labels(mode).inc();
    return result;
  };

  router.post("/orders/async", requireJson, json, async (req, res) => {
    // Decided before anything is recorded: a refused order leaves no row and no message, and an
    // order answered 202 is never refused later.
    const refusal = await deps.admission?.admitAsync();
    if (refusal) return refuse(res, refusal);
    const { order, created } = await accept(req.body, "async");
    if (created) {
      deps.admission?.noteAccepted();
      deps.onAccepted?.();
    }
    res
      .status(202)
      .location(`/orders/${order.orderId}`)
      .set(created ? {} : { "Idempotent-Replayed": "true" })
      .json({ orderId: order.orderId, status: order.status });
  });

  // The study's synchronous path: the customer waits for a slot in this process's
  // payment processor (FIFO) and then for the payment itself.
  // Sync requests admitted and not yet answered (admission.syncInFlight): those not holding a slot
  // are ahead of the next one (waiting for a slot, or still being recorded).
  router.post("/orders/sync", requireJson, json, async (req, res) => {
    const admission = deps.admission;
    if (!admission) return paySync(req.body, res);
    const ahead = Math.max(deps.payments.waiting, admission.syncInFlight - deps.payments.slotsInUse);
    const refusal = await admission.admitSync(ahead);
    if (refusal) return refuse(res, refusal);
    admission.syncInFlight++;
    try {
      await paySync(req.body, res);
    } finally {
      admission.syncInFlight--;
    }
  });

  const paySync = async (body: unknown, res: Response) => {
    const started = performance.now();
    const { order, created } = await accept(body, "sync");
    if (!created && order.status === "paid") {
      res.set("Idempotent-Replayed", "true").json({ ...orderView(order), status: "paid" });
      return;
    }
    const result = await withHeartbeat(
      SYNC_LEASE_MS / 3,
      () => deps.store.renewLease(order.orderId, deps.holder, SYNC_LEASE_MS),
      () =>
        processOrder(order.orderId, {
          store: deps.store,
          payments: deps.payments,
          holder: deps.holder,
          leaseMs: SYNC_LEASE_MS,
        }),
    ).catch(async (error: unknown) => {
      // The customer is told now; a synchronous order is not retried behind their back.
      if (error instanceof PaymentUnavailableError) await deps.store.markDead(order.orderId, error.message);
      throw error;
    });
    if (result.outcome === "paid") {
      if (!result.replayed) deps.admission?.noteSyncPaid();
      deps.metrics.payment.slotWait.observe(result.slotWaitMs / 1000);
      deps.metrics.payment.payments.labels(result.replayed ? "replayed" : "charged").inc();
    }
    res.status(200).json({
      ...orderView(result.order),
      chargeId: result.outcome === "paid" ? result.chargeId : undefined,
      waitedForSlotMs: result.outcome === "paid" ? Math.round(result.slotWaitMs) : 0,
      responseMs: Math.round(performance.now() - started),
    });
  };

  router.get("/orders/:id", async (req, res) => {
    const id = req.params.id;
    if (!/^[0-9a-f-]{36}$/i.test(id))
      throw new HttpError(400, "orderId must be a UUID", [{ field: "id", message: "not a UUID" }]);
    const order = await deps.store.getOrder(id);
    if (!order) throw new HttpError(404, `order ${id} not found`);
    res.json(orderView(order));
  });

  return router;
}
