import { errorMessage, LATENCY_BUCKETS_SECONDS, ValidationError } from "@surge/core";
import {
  BURST_BOUNDS,
  BURST_MODES,
  Burst,
  BurstChangeError,
  type BurstStats,
  type Clock,
  HttpOrderTarget,
  type OrderTarget,
  parseBurstChange,
  parseBurstSpec,
  type QueueProbe,
  resolveOwnTarget,
  timelineCsv,
} from "@surge/loadgen";
import type { Request, Response, Router } from "express";
import { Counter, Gauge, Histogram } from "prom-client";
import { HttpError } from "../../http/server.js";
import { actorOf, type OpsContext, type OpsModule } from "../context.js";

/** The store record kind bursts are kept under. */
export const BURST_RECORD_KIND = "burst";

interface BurstsModuleOptions {
  /**
   * This deployment's own API base URL, the only target a burst may have.
   * A function because the port may be bound only after the app is built.
   */
  ownBaseUrl: () => string;
  /** Builds what the burst sends orders through. Default: an undici keep-alive pool to the base URL. */
  createTarget?: (baseUrl: string) => OrderTarget;
  /** Default: the system clock. */
  clock?: Clock;
  /**
   * What a burst watches for its oldestAgeSeconds and drainSeconds gates. Default: the order
   * store's orders still waiting (queued, processing, failed awaiting a retry) and the oldest one's age.
   */
  queueProbe?: QueueProbe;
  /** How often a running burst's record is saved, in seconds, so a crash loses little. Default 5. */
  persistIntervalSeconds?: number;
  /** Points of the live timeline in the `/ops/state` snapshot. Default 60. */
  stateTimelinePoints?: number;
}

export interface BurstsModule extends OpsModule {
  /** The latest burst this process started, running or ended (undefined before the first). */
  active(): Burst | undefined;
}

type BurstSummary = Omit<BurstStats, "timeline">;

const withoutTimeline = ({ timeline: _timeline, ...rest }: BurstStats): BurstSummary => rest;

/**
 * `/ops/bursts`: fire, watch, change, stop and export flash-sale bursts. One at a time per API
 * process, so the bounds hold for the deployment's load generator as a whole.
 */
export function burstsModule(options: BurstsModuleOptions): BurstsModule {
  const createTarget = options.createTarget ?? ((url: string) => new HttpOrderTarget(url));
  const persistEvery = options.persistIntervalSeconds ?? 5;
  const statePoints = options.stateTimelinePoints ?? 60;
  let active: Burst | undefined;
  /** Resolves once the active burst's final record is saved. */
  let finished: Promise<void> = Promise.resolve();
  let last: BurstSummary | undefined;

  return {
    name: "bursts",
    active: () => active,

    routes(router: Router, ctx: OpsContext) {
      const { store, audit, log, state } = ctx;
      const registry = ctx.metrics.registry;

      new Gauge({
        name: "surge_burst_active",
        help: "1 while a load burst runs against this API, else 0 (its edges mark burst start and end).",
        registers: [registry],
        collect() {
          this.set(active?.status === "running" ? 1 : 0);
        },
      });
      new Gauge({
        name: "surge_burst_users",
        help: "Simulated users running in the active burst (0 for an arrival-rate burst or none).",
        registers: [registry],
        collect() {
          const stats = active?.status === "running" ? active.stats({ timeline: false }) : undefined;
          this.set(stats?.users?.active ?? 0);
        },
      });
      new Gauge({
        name: "surge_burst_target_rate_per_second",
        help: "Target arrival rate of the active arrival-rate burst, orders per second (0 otherwise).",
        registers: [registry],
        collect() {
          const stats = active?.status === "running" ? active.stats({ timeline: false }) : undefined;
          this.set(stats?.ratePerSecond ?? 0);
        },
      });
      new Gauge({
        name: "surge_burst_requests_in_flight",
        help: "Burst requests awaiting an answer.",
        registers: [registry],
        collect() {
          this.set(active?.status === "running" ? active.stats({ timeline: false }).inFlight : 0);
        },
      });
      const startedAt = new Gauge({
        name: "surge_burst_last_start_timestamp_seconds",
        help: "Unix time the latest burst started (for Grafana annotations).",
        registers: [registry],
      });
      const endedAt = new Gauge({
        name: "surge_burst_last_end_timestamp_seconds",
        help: "Unix time the latest burst ended (for Grafana annotations).",
        registers: [registry],
      });
      const requests = new Counter({
        name: "surge_burst_requests_total",
        help: "Answers the burst load generator received, by order mode and result.",
        labelNames: ["mode", "result"] as const,
        registers: [registry],
      });
      const dropped = new Counter({
        name: "surge_burst_dropped_arrivals_total",
        help: "Arrivals an arrival-rate burst did not send because maxInFlight requests were waiting.",
        labelNames: ["mode"] as const,
        registers: [registry],
      });
      const latency = new Histogram({
        name: "surge_burst_request_duration_seconds",
        help: "Response time the burst load generator saw, from each order's scheduled arrival, by order mode (client side).",
        labelNames: ["mode"] as const,
        buckets: LATENCY_BUCKETS_SECONDS,
        registers: [registry],
      });
      for (const mode of BURST_MODES) {
        requests.labels(mode, "ok").inc(0);
        requests.labels(mode, "failed").inc(0);
        dropped.labels(mode).inc(0);
        latency.labels(mode);
      }

      state.register("bursts", () => ({
        active: active && !active.settled ? active.stats({ timeline: statePoints }) : null,
        last: last ?? null,
        bounds: BURST_BOUNDS,
      }));

      const save = (stats: BurstStats) =>
        store.putRecord(BURST_RECORD_KIND, stats.id, stats, Date.parse(stats.startedAt));
      // One save at a time, in order: a progress save must never land after the final one
      // (with PostgreSQL two saves could otherwise race on different connections).
      let saving: Promise<void> = Promise.resolve();
      const saveInOrder = (stats: BurstStats) => {
        saving = saving.catch(() => {}).then(() => save(stats));
        return saving;
      };

      // A burst recorded as running by a process that is gone was cut short by that process's end.
      void (async () => {
        const stale = (await store.listRecords<BurstStats>(BURST_RECORD_KIND, { limit: 20 })).filter(
          (r) => r.data.status === "running" && r.id !== active?.id,
        );
        for (const record of stale) await saveInOrder({ ...record.data, status: "interrupted" });
        const newest = (await store.listRecords<BurstStats>(BURST_RECORD_KIND, { limit: 1 }))[0];
        if (newest && !last) last = withoutTimeline(newest.data);
      })().catch((error) => log.warn("could not tidy past bursts", { error: errorMessage(error) }));

      const queueProbe: QueueProbe = options.queueProbe ?? {
        async sample() {
          const [byStatus, oldestAgeSeconds] = await Promise.all([
            store.countByStatus(),
            store.oldestWaitingAgeSeconds(),
          ]);
          return { waiting: byStatus.queued + byStatus.processing + byStatus.failed, oldestAgeSeconds };
        },
      };

      const find = async (id: string): Promise<BurstStats> => {
        if (active?.id === id) return active.stats();
        const record = await store.getRecord<BurstStats>(BURST_RECORD_KIND, id);
        if (!record) throw new HttpError(404, `burst ${id} not found`);
        return record.data;
      };

      router.post("/bursts", async (req, res) => {
        const { target, ...spec } = parseBurstSpec(req.body);
        const targetUrl = resolveOwnTarget(target, options.ownBaseUrl());
        if (active?.status === "running") {
          throw new HttpError(409, `burst ${active.id} is running: stop it (DELETE /ops/bursts/${active.id}) first`);
        }
        if (active && !active.settled) {
          throw new HttpError(
            409,
            `burst ${active.id} is watching the queue drain for its thresholds: stop it (DELETE /ops/bursts/${active.id}) first`,
          );
        }
        const actor = actorOf(res);
        const burst = new Burst({
          spec,
          target: createTarget(targetUrl),
          targetUrl,
          startedBy: actor.label,
          ...(options.clock && { clock: options.clock }),
          queue: queueProbe,
        });
        active = burst;
        burst.on("response", ({ mode, ok, latencyMs }) => {
          requests.labels(mode, ok ? "ok" : "failed").inc();
          latency.labels(mode).observe(latencyMs / 1000);
        });
        let droppedSoFar = 0;
        burst.on("second", (point) => {
          if (point.dropped > 0) dropped.labels(burst.mode).inc(point.dropped);
          droppedSoFar += point.dropped;
          if ((point.second + 1) % persistEvery === 0 && burst.status === "running") {
            saveInOrder(burst.stats()).catch((error) =>
              log.warn("could not save burst progress", { burst: burst.id, error: errorMessage(error) }),
            );
          }
        });
        finished = new Promise<void>((resolve) => {
          burst.once("end", (stats) => {
            endedAt.set(Date.parse(stats.endedAt ?? new Date().toISOString()) / 1000);
            if (stats.dropped > droppedSoFar) dropped.labels(burst.mode).inc(stats.dropped - droppedSoFar);
            last = withoutTimeline(stats);
            log.info("burst ended", {
              burst: stats.id,
              status: stats.status,
              requests: stats.requests,
              failures: stats.failures,
              throughputPerSecond: Math.round(stats.throughputPerSecond * 100) / 100,
              p99Ms: Math.round(stats.latencyMs.p99 * 10) / 10,
              serviceP99Ms: Math.round(stats.serviceTimeMs.p99 * 10) / 10,
              ...(stats.thresholds && {
                thresholdsFailed: stats.thresholds.filter((t) => !t.pass).map((t) => t.metric),
              }),
            });
            saveInOrder(stats)
              .catch((error) => log.error("could not save burst", { burst: stats.id, error: errorMessage(error) }))
              .finally(resolve);
          });
        });
        void burst.start();
        const stats = burst.stats();
        startedAt.set(Date.parse(stats.startedAt) / 1000);
        await saveInOrder(stats);
        await audit.record(actor, "burst.start", { after: { id: burst.id, target: targetUrl, ...spec } });
        log.info("burst started", { burst: burst.id, by: actor.label, ...spec });
        res.status(201).location(`/ops/bursts/${burst.id}`).json(withoutTimeline(stats));
      });

      router.get("/bursts", async (req, res) => {
        const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 50) || 50));
        const records = await store.listRecords<BurstStats>(BURST_RECORD_KIND, { limit });
        const bursts = records.map((r) =>
          active?.id === r.id ? withoutTimeline(active.stats()) : withoutTimeline(r.data),
        );
        if (active && !records.some((r) => r.id === active?.id)) bursts.unshift(withoutTimeline(active.stats()));
        res.json({ bursts, bounds: BURST_BOUNDS });
      });

      router.get("/bursts/:id", async (req: Request<{ id: string }>, res: Response) => {
        const { id, format } = exportFormat(req);
        const stats = await find(id);
        if (format === "csv") {
          res.type("text/csv").attachment(`burst-${id}.csv`).send(timelineCsv(stats.timeline));
          return;
        }
        if (format === "json") res.attachment(`burst-${id}.json`);
        res.json(stats);
      });

      const change = async (req: Request<{ id: string }>, res: Response) => {
        const body = parseBurstChange(req.body);
        const id = req.params.id;
        if (active?.id !== id || active.status !== "running") {
          const stats = await find(id);
          throw new HttpError(409, `burst ${id} is ${stats.status}: only a running burst can change`);
        }
        const actor = actorOf(res);
        let record: ReturnType<Burst["change"]>;
        try {
          record = active.change(body, actor.label);
        } catch (error) {
          if (error instanceof BurstChangeError) {
            throw new ValidationError(error.message, [{ field: error.field, message: error.message }]);
          }
          throw error;
        }
        await audit.record(actor, "burst.change", { before: record.before, after: record.after, detail: id });
        const stats = active.stats();
        await saveInOrder(stats);
        res.json(withoutTimeline(stats));
      };
      router.patch("/bursts/:id", change);
      router.put("/bursts/:id", change);

      router.delete("/bursts/:id", async (req: Request<{ id: string }>, res: Response) => {
        const id = req.params.id;
        if (active?.id === id && !active.settled) {
          const actor = actorOf(res);
          const before = active.stats({ timeline: false });
          const stats = await active.stop();
          await finished;
          await audit.record(actor, "burst.stop", {
            before: { status: before.status, requests: before.requests, elapsedSeconds: before.elapsedSeconds },
            after: { status: stats.status, requests: stats.requests, elapsedSeconds: stats.elapsedSeconds },
            detail: id,
          });
          res.json(withoutTimeline(stats));
          return;
        }
        // Stopping a burst that already ended is a no-op that says so.
        res.json(withoutTimeline(await find(id)));
      });
    },

    async close() {
      if (active && !active.settled) await active.interrupt();
      await finished;
    },
  };
}

/** `/bursts/<id>.csv`, `/bursts/<id>.json` or `?format=csv|json`: the export asked for, if any. */
function exportFormat(req: Request<{ id: string }>): { id: string; format: "csv" | "json" | undefined } {
  const match = /^(.+)\.(csv|json)$/i.exec(req.params.id);
  const queryFormat = typeof req.query.format === "string" ? req.query.format.toLowerCase() : undefined;
  if (queryFormat !== undefined && queryFormat !== "csv" && queryFormat !== "json") {
    throw new ValidationError("format must be csv or json", [{ field: "format", message: "csv or json" }]);
  }
  const suffix = match?.[2]?.toLowerCase() as "csv" | "json" | undefined;
  return { id: match?.[1] ?? req.params.id, format: suffix ?? queryFormat };
}
