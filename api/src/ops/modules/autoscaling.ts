import { Gauge } from "prom-client";
import type { BacklogReading, BacklogSource } from "../../autoscaling/backlog.js";
import { parsePolicyUpdate, type ScalingPolicy } from "../../autoscaling/policy.js";
import type { Autoscaler, AutoscalingState } from "../../autoscaling/types.js";
import { shared } from "../../fleet/cache.js";
import type { Fleet, FleetState } from "../../fleet/types.js";
import { actorOf, type OpsModule } from "../context.js";

interface AutoscalingModuleOptions {
  autoscaler: Autoscaler;
  fleet: Fleet;
  backlog: Pick<BacklogSource, "read">;
  /** Upper bound for minTasks / maxTasks (MAX_WORKER_TASKS). */
  maxTasks: number;
  /** One task's payment capacity, for the drain ETA: PAYMENT_SLOTS and PAYMENT_DURATION_MS. */
  payment: { slots: number; durationMs: number };
  /** How long one backlog reading is shared by the snapshot, the stream and /metrics, in ms. Default 1000. */
  backlogCacheMs?: number;
}

/** The figures the policy acts on, as the operator and Prometheus see them. */
export interface ScalingSignals {
  /** Orders waiting (store: queued + failed awaiting retry). */
  backlog: number;
  /** Backlog ÷ running tasks (÷ 1 with none running): the metric the policy tracks. */
  backlogPerTask: number;
  /** Seconds the oldest order waiting for a task has waited (0 when none): the age target's metric. */
  oldestAgeSeconds: number;
  /** Time to clear the backlog at the running fleet's payment capacity; null when no task runs. */
  drainEtaSeconds: number | null;
  /** SQS's approximate visible count at the same moment, for comparison. */
  sqsVisible?: number;
}

/**
 * Drain ETA: backlog ÷ (running tasks × min(slots, concurrency) ÷ payment
 * duration) — the fleet's payment capacity, which is what a saturated fleet
 * achieves (the scaling benchmark measures ≥ 97% of it).
 */
function scalingSignals(
  reading: BacklogReading,
  fleet: Pick<FleetState, "running" | "concurrency">,
  payment: { slots: number; durationMs: number },
): ScalingSignals {
  const perTaskPerSecond = Math.min(payment.slots, fleet.concurrency) / Math.max(0.001, payment.durationMs / 1000);
  const capacity = fleet.running * perTaskPerSecond;
  return {
    backlog: reading.backlog,
    backlogPerTask: reading.backlog / Math.max(1, fleet.running),
    oldestAgeSeconds: reading.oldestAgeSeconds,
    drainEtaSeconds: reading.backlog === 0 ? 0 : capacity > 0 ? reading.backlog / capacity : null,
    ...(reading.sqsVisible !== undefined && { sqsVisible: reading.sqsVisible }),
  };
}

/** `/ops/autoscaling`, `/ops/scaling-activities`, the `autoscaling` state section and the autoscaler's gauges. */
export function autoscalingModule(options: AutoscalingModuleOptions): OpsModule {
  const { autoscaler, fleet, maxTasks, payment } = options;
  const backlog = shared(() => options.backlog.read(), options.backlogCacheMs ?? 1000);
  const signals = async () => {
    const [reading, state] = await Promise.all([backlog.get(), fleet.describe()]);
    return scalingSignals(reading, state, payment);
  };
  const view = async (): Promise<AutoscalingState & { signals: ScalingSignals | { error: string } }> => {
    const [state, s] = await Promise.all([
      autoscaler.state(),
      signals().catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) })),
    ]);
    return { ...state, signals: s };
  };
  const policyOf = (s: AutoscalingState): ScalingPolicy => ({
    enabled: s.enabled,
    minTasks: s.minTasks,
    maxTasks: s.maxTasks,
    targetBacklogPerTask: s.targetBacklogPerTask,
    scaleOutCooldownSeconds: s.scaleOutCooldownSeconds,
    scaleInCooldownSeconds: s.scaleInCooldownSeconds,
    targetOldestAgeSeconds: s.targetOldestAgeSeconds,
  });

  return {
    name: "autoscaling",
    routes(router, ctx) {
      const registry = ctx.metrics.registry;
      new Gauge({
        name: "surge_queue_backlog_per_task",
        help: "Orders waiting (from the order store) per running worker task: the autoscaling policy's metric.",
        registers: [registry],
        async collect() {
          const s = await signals().catch(() => undefined);
          if (s) this.set(s.backlogPerTask);
        },
      });
      new Gauge({
        name: "surge_queue_oldest_untaken_age_seconds",
        help: "Age of the oldest worker order no task holds (queued, or failed awaiting its retry): the age target's metric.",
        registers: [registry],
        async collect() {
          const s = await signals().catch(() => undefined);
          if (s) this.set(s.oldestAgeSeconds);
        },
      });
      new Gauge({
        name: "surge_queue_drain_eta_seconds",
        help: "Time to clear the backlog at the running fleet's payment capacity (+Inf with no task running).",
        registers: [registry],
        async collect() {
          const s = await signals().catch(() => undefined);
          if (s) this.set(s.drainEtaSeconds ?? Number.POSITIVE_INFINITY);
        },
      });
      new Gauge({
        name: "surge_autoscaler_enabled",
        help: "1 while the autoscaler controls the desired count, 0 while an operator does.",
        registers: [registry],
        async collect() {
          const s = await autoscaler.state().catch(() => undefined);
          if (s) this.set(s.enabled ? 1 : 0);
        },
      });

      ctx.state.register("autoscaling", view);

      router.get("/autoscaling", async (_req, res) => {
        res.json(await view());
      });

      router.put("/autoscaling", async (req, res) => {
        const before = await autoscaler.state();
        const next = parsePolicyUpdate(req.body, policyOf(before), maxTasks);
        const actor = actorOf(res);
        const after = await autoscaler.setPolicy(next, actor.label);
        await ctx.audit.record(actor, "autoscaling.policy", {
          before: { ...policyOf(before), controlledBy: before.controlledBy },
          after: { ...policyOf(after), controlledBy: after.controlledBy },
        });
        ctx.log.info("autoscaling policy changed", { actor: actor.label, ...next });
        res.json({ ...after, signals: await signals().catch(() => ({ error: "unavailable" })) });
      });

      router.get("/scaling-activities", async (req, res) => {
        const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 100) || 100));
        res.json({ activities: await autoscaler.activities(limit) });
      });
    },
    close: () => autoscaler.close(),
  };
}
