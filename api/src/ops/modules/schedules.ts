import { newOrderId, type OrderStore, type SaleWindow, ValidationError } from "@surge/core";
import type { Autoscaler } from "../../autoscaling/types.js";
import { HttpError } from "../../http/server.js";
import type { ScheduledCapacity } from "../../schedule/capacity.js";
import type { SaleScheduler } from "../../schedule/scheduler.js";
import { parseWindowRequest, type SaleWindowView, toView, windowState } from "../../schedule/windows.js";
import { actorOf, type OpsModule } from "../context.js";

interface SchedulesModuleOptions {
  store: Pick<OrderStore, "insertSaleWindow" | "listSaleWindows" | "getSaleWindow" | "cancelSaleWindow">;
  scheduler: SaleScheduler;
  capacity: ScheduledCapacity;
  autoscaler: Pick<Autoscaler, "state">;
  /** MAX_WORKER_TASKS: the most a window may ask for. */
  maxTasks: number;
  now?: () => number;
}

/** How far back the list and the console look for past windows. */
const PAST_DAYS = 30;

/** What GET /ops/schedules answers and the `schedules` state section holds. */
export interface SchedulesView {
  windows: SaleWindowView[];
  /** The window in force now, if any. */
  activeId: string | null;
  platform: "local" | "aws";
}

/** `GET/POST /ops/schedules`, `DELETE /ops/schedules/:id`: sale windows that raise the fleet's floor. */
export function schedulesModule(options: SchedulesModuleOptions): OpsModule {
  const { store, scheduler, capacity, autoscaler, maxTasks } = options;
  const now = options.now ?? Date.now;
  const view = (w: SaleWindow) => toView(w, now(), capacity.lambdaNote);
  const list = async (): Promise<SchedulesView> => {
    const nowMs = now();
    const windows = await store.listSaleWindows({ endsAfterMs: nowMs - PAST_DAYS * 86_400_000 });
    return {
      windows: windows.map(view),
      activeId: windows.find((w) => windowState(w, nowMs) === "active")?.id ?? null,
      platform: capacity.kind,
    };
  };
  const bounds = async () => {
    const s = await autoscaler.state();
    return { minTasks: s.minTasks, maxTasks: s.maxTasks };
  };

  return {
    name: "schedules",
    async close() {
      await scheduler.close();
    },
    routes(router, ctx) {
      ctx.state.register("schedules", list);

      router.get("/schedules", async (_req, res) => {
        res.json(await list());
      });

      router.post("/schedules", async (req, res) => {
        const nowMs = now();
        const request = parseWindowRequest(req.body, nowMs, maxTasks);
        const actor = actorOf(res);
        const result = await store.insertSaleWindow({
          id: newOrderId(nowMs),
          ...request,
          createdAtMs: nowMs,
          createdBy: actor.label,
        });
        if ("overlaps" in result) {
          const other = result.overlaps;
          const message = `overlaps sale window ${other.id} (${new Date(other.startsAtMs).toISOString()} to ${new Date(other.endsAtMs).toISOString()}); cancel it or choose another time`;
          throw new ValidationError(`invalid sale window: startsAt: ${message}`, [{ field: "startsAt", message }]);
        }
        const window = result.created;
        try {
          await capacity.booked(window, await bounds());
        } catch (error) {
          // Not booked on the platform: not booked at all, so the store and AWS never disagree.
          await store.cancelSaleWindow(window.id, now());
          throw error;
        }
        await ctx.audit.record(actor, "schedule.create", { after: view(window) });
        ctx.log.info("sale window scheduled", { actor: actor.label, id: window.id, minTasks: window.minTasks });
        // A window starting now takes effect now, not at the next check.
        await scheduler.tick();
        res.status(201).json(view(window));
      });

      router.delete("/schedules/:id", async (req, res) => {
        const before = await store.getSaleWindow(req.params.id ?? "");
        if (!before) throw new HttpError(404, `no sale window ${req.params.id}`);
        const state = windowState(before, now());
        if (state === "cancelled" || state === "past") {
          throw new HttpError(409, `sale window ${before.id} is ${state === "past" ? "over" : "already cancelled"}`);
        }
        const after = await store.cancelSaleWindow(before.id, now());
        if (!after) throw new HttpError(404, `no sale window ${req.params.id}`);
        await capacity.cancelled(after, await bounds(), state === "active");
        const actor = actorOf(res);
        await ctx.audit.record(actor, "schedule.cancel", { before: view(before), after: view(after) });
        ctx.log.info("sale window cancelled", { actor: actor.label, id: after.id, was: state });
        await scheduler.tick();
        res.json(view(after));
      });
    },
  };
}
