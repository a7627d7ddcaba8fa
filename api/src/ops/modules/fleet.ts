import { parseOrThrow, TASK_CONCURRENCY_MAX, TASK_CONCURRENCY_MIN } from "@surge/core";
import { Counter, Gauge } from "prom-client";
import { z } from "zod";
import type { ActivityLog } from "../../autoscaling/activity-log.js";
import type { Autoscaler, Controller } from "../../autoscaling/types.js";
import type { CachedFleet } from "../../fleet/cache.js";
import type { FleetState } from "../../fleet/types.js";
import { HttpError } from "../../http/server.js";
import { actorOf, type OpsModule } from "../context.js";

interface FleetModuleOptions {
  fleet: CachedFleet;
  autoscaler: Autoscaler;
  activities: ActivityLog;
  /** Upper bound for the desired count (MAX_WORKER_TASKS). */
  maxTasks: number;
}

/** What GET/PUT /ops/fleet answer and the `fleet` section of the state snapshot holds. */
export type FleetView = FleetState & { controlledBy: Controller; maxTasks: number; maxConcurrency: number };

const SCALING_DIRECTIONS = ["out", "in"] as const;
const SCALING_ACTORS = ["operator", "autoscaler"] as const;

/** Validates `PUT /ops/fleet`: each bound error names the field and the bound. */
function parseFleetUpdate(body: unknown, maxTasks: number): { desiredCount?: number; concurrency?: number } {
  const countBound = `must be an integer in 0..${maxTasks} (MAX_WORKER_TASKS)`;
  const concurrencyBound = `must be an integer in ${TASK_CONCURRENCY_MIN}..${TASK_CONCURRENCY_MAX}`;
  const schema = z
    .strictObject({
      desiredCount: z.int(countBound).min(0, countBound).max(maxTasks, countBound).optional(),
      concurrency: z
        .int(concurrencyBound)
        .min(TASK_CONCURRENCY_MIN, concurrencyBound)
        .max(TASK_CONCURRENCY_MAX, concurrencyBound)
        .optional(),
    })
    .refine((b) => b.desiredCount !== undefined || b.concurrency !== undefined, {
      message: "give desiredCount and/or concurrency",
    });
  const parsed = { data: parseOrThrow(schema, body ?? {}, "fleet change") };
  const { desiredCount, concurrency } = parsed.data;
  return { ...(desiredCount !== undefined && { desiredCount }), ...(concurrency !== undefined && { concurrency }) };
}

/**
 * `/ops/fleet`: read the fleet, set its desired count and per-task concurrency.
 * A manual desired count suspends dynamic scaling the way AWS does while an
 * operator holds the wheel; every change is audited with before → after.
 */
export function fleetModule(options: FleetModuleOptions): OpsModule {
  const { fleet, autoscaler, activities, maxTasks } = options;

  const view = async (state?: FleetState): Promise<FleetView> => {
    const [fleetState, auto] = await Promise.all([state ?? fleet.describe(), autoscaler.state()]);
    return { ...fleetState, controlledBy: auto.controlledBy, maxTasks, maxConcurrency: TASK_CONCURRENCY_MAX };
  };

  return {
    name: "fleet",
    routes(router, ctx) {
      const registry = ctx.metrics.registry;
      // Gauges read the (shared, one-second) fleet description at scrape time; an unreachable fleet leaves them as they were.
      const gauge = (name: string, help: string, pick: (s: FleetState) => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          async collect() {
            const state = await fleet.describe().catch(() => undefined);
            if (state) this.set(pick(state));
          },
        });
      gauge(
        "surge_fleet_desired_tasks",
        "Worker tasks the fleet's scheduler is asked to keep running.",
        (s) => s.desiredCount,
      );
      gauge("surge_fleet_running_tasks", "Worker tasks running and consuming.", (s) => s.running);
      gauge("surge_fleet_pending_tasks", "Worker tasks started and not yet consuming.", (s) => s.pending);
      gauge(
        "surge_fleet_concurrency",
        "Orders each worker task works on at once (WORKER_CONCURRENCY).",
        (s) => s.concurrency,
      );
      // "At max tasks" for alerting: the ceiling the fleet can be scaled to without a human,
      // the policy's maxTasks while the autoscaler is in control, else MAX_WORKER_TASKS.
      new Gauge({
        name: "surge_fleet_max_tasks",
        help: "Most worker tasks the fleet may run now: the autoscaling policy's maxTasks while it controls the fleet, else MAX_WORKER_TASKS.",
        registers: [registry],
        async collect() {
          const auto = await autoscaler.state().catch(() => undefined);
          this.set(auto?.controlledBy === "autoscaler" ? Math.min(auto.maxTasks, maxTasks) : maxTasks);
        },
      });
      let restartsSeen = 0;
      new Counter({
        name: "surge_fleet_task_restarts_total",
        help: "Worker tasks that died unasked and were replaced by the scheduler.",
        registers: [registry],
        async collect() {
          const state = await fleet.describe().catch(() => undefined);
          if (!state) return;
          // The scheduler keeps the count; a lower figure means it started afresh.
          this.inc(state.restarts >= restartsSeen ? state.restarts - restartsSeen : state.restarts);
          restartsSeen = state.restarts;
        },
      });
      const actions = new Counter({
        name: "surge_autoscaler_scaling_actions_total",
        help: "Changes of the desired task count, by direction (out, in) and actor (operator, autoscaler).",
        labelNames: ["direction", "actor"] as const,
        registers: [registry],
      });
      for (const direction of SCALING_DIRECTIONS)
        for (const actor of SCALING_ACTORS) actions.labels(direction, actor).inc(0);
      autoscaler.on("scaled", ({ direction }) => actions.labels(direction, "autoscaler").inc());

      ctx.state.register("fleet", () => view());

      router.get("/fleet", async (_req, res) => {
        res.json(await view());
      });

      router.put("/fleet", async (req, res) => {
        const change = parseFleetUpdate(req.body, maxTasks);
        const floor = autoscaler.scheduledFloor();
        if (floor && change.desiredCount !== undefined && change.desiredCount < floor.minTasks) {
          // A sale is on: going below its floor is refused, never silently undone by the scheduler.
          const message = `must be at least ${floor.minTasks} while sale window ${floor.windowId} is active (until ${floor.endsAt}); cancel it (DELETE /ops/schedules/${floor.windowId}) to go lower`;
          throw new HttpError(409, `desiredCount: ${message}`, [{ field: "desiredCount", message }]);
        }
        const actor = actorOf(res);
        const before = await view(await fleet.describeFresh());
        if (change.desiredCount !== undefined && before.controlledBy === "autoscaler") {
          await autoscaler.suspend(
            actor.label,
            `${actor.label} set the desired count by hand (${before.desiredCount} → ${change.desiredCount})`,
          );
        }
        let after: FleetState = before;
        if (change.concurrency !== undefined && change.concurrency !== before.concurrency) {
          after = await fleet.setConcurrency(change.concurrency);
        }
        if (change.desiredCount !== undefined) after = await fleet.setDesiredCount(change.desiredCount);
        const result = await view(after);

        if (change.desiredCount !== undefined) {
          const from = before.desiredCount;
          const to = change.desiredCount;
          const direction = to > from ? "out" : to < from ? "in" : "none";
          if (direction !== "none") actions.labels(direction, "operator").inc();
          await activities.record({
            actor: actor.label,
            direction,
            status: "successful",
            from,
            to,
            cause: `${actor.label} set the desired count by hand (${from} → ${to})`,
            running: before.running,
            source: fleet.kind === "ecs" ? "aws" : "local",
          });
        }
        const summary = (v: FleetView) => ({
          desiredCount: v.desiredCount,
          concurrency: v.concurrency,
          controlledBy: v.controlledBy,
        });
        await ctx.audit.record(actor, "fleet.update", { before: summary(before), after: summary(result) });
        ctx.log.info("fleet changed by operator", { actor: actor.label, ...change });
        res.json(result);
      });
    },
  };
}
