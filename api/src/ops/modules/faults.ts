import { PAYMENT_FAULTS_SETTING, type PaymentFaults, parseOrThrow } from "@surge/core";
import { z } from "zod";
import { actorOf, type OpsModule } from "../context.js";

const faultsSchema = z
  .strictObject({
    /** Simulate a payment processor outage for this many seconds from now (0 ends it). */
    paymentOutageSeconds: z.int().min(0).max(3600).optional(),
    /** Override PAYMENT_FAILURE_RATE at run time; null returns to the configured rate. */
    paymentFailureRate: z.number().min(0).max(1).nullable().optional(),
  })
  .refine((b) => b.paymentOutageSeconds !== undefined || b.paymentFailureRate !== undefined, {
    message: "give paymentOutageSeconds and/or paymentFailureRate",
  });

function view(faults: PaymentFaults) {
  const remainingMs = Math.max(0, (faults.outageUntilMs ?? 0) - Date.now());
  return {
    paymentOutage: remainingMs > 0,
    paymentOutageRemainingSeconds: Math.ceil(remainingMs / 1000),
    ...(faults.outageUntilMs &&
      remainingMs > 0 && { paymentOutageUntil: new Date(faults.outageUntilMs).toISOString() }),
    paymentFailureRate: faults.failureRate ?? null,
  };
}

/**
 * Fault injection for game days: a payment processor outage and a decline
 * rate, set at run time for every process through one store setting. Workers
 * answer an outage with their circuit breaker; the console shows both.
 */
export function faultsModule(): OpsModule {
  return {
    name: "faults",
    routes(router, ctx) {
      const read = async () => (await ctx.store.getSetting<PaymentFaults>(PAYMENT_FAULTS_SETTING)) ?? {};
      ctx.state.register("faults", async () => view(await read()));

      router.get("/faults", async (_req, res) => {
        res.json(view(await read()));
      });

      router.put("/faults", async (req, res) => {
        const parsed = { data: parseOrThrow(faultsSchema, req.body ?? {}, "faults") };
        const before = await read();
        const next: PaymentFaults = { ...before };
        const { paymentOutageSeconds, paymentFailureRate } = parsed.data;
        if (paymentOutageSeconds !== undefined) {
          if (paymentOutageSeconds === 0) delete next.outageUntilMs;
          else next.outageUntilMs = Date.now() + paymentOutageSeconds * 1000;
        }
        if (paymentFailureRate === null) delete next.failureRate;
        else if (paymentFailureRate !== undefined) next.failureRate = paymentFailureRate;
        await ctx.store.setSetting(PAYMENT_FAULTS_SETTING, next);
        await ctx.audit.record(actorOf(res), "faults.set", { before: view(before), after: view(next) });
        res.json(view(next));
      });
    },
  };
}
