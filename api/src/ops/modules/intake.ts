import { type OrderStore, type PaymentProcessor, parseOrThrow, ValidationError } from "@surge/core";
import { Gauge } from "prom-client";
import { z } from "zod";
import type { ApiMetrics, RefusalReason } from "../../metrics.js";
import { actorOf, type OpsModule } from "../context.js";

export type IntakeMode = "open" | "limit" | "paused";

/** What the operator chose; one store setting, so every API task applies it and a restart keeps it. */
export interface IntakeSettings {
  mode: IntakeMode;
  /** The projected wait over which `limit` mode refuses, in seconds; kept while another mode is on. */
  maxProjectedWaitSeconds: number | null;
}

export const INTAKE_SETTING = "intake.admission";
const OPEN: IntakeSettings = { mode: "open", maxProjectedWaitSeconds: null };
/** What a paused intake tells clients to wait before trying again, in seconds. */
export const PAUSED_RETRY_AFTER_SECONDS = 30;
const MAX_RETRY_AFTER_SECONDS = 3600;

/** The figures a projection is made from, read from the store (exact, every platform). */
export interface DrainReading {
  /**
   * Orders ahead of a new one: queued, failed and waiting for their retry, or being paid (this API's
   * own synchronous orders left out: they wait for its slots, not the fleet's).
   */
  backlog: number;
  /** Fleet payments (this API's own synchronous ones left out) during the window. */
  paidInWindow: number;
  /** The window the drain rate was measured over, in seconds. */
  windowSeconds: number;
  /** Age of the oldest async order not yet paid, in seconds. */
  oldestWaitingSeconds: number;
}

export interface Projection extends DrainReading {
  /** Orders paid per second over the window; null when nothing was paid in it. */
  drainPerSecond: number | null;
  /** Backlog ÷ drain rate; 0 with no backlog; null (unknown) with a backlog and nothing paid. */
  projectedWaitSeconds: number | null;
}

/** Backlog ÷ the measured drain rate. Unknown, not zero, when orders wait and none was paid. */
export function projectWait(reading: DrainReading): Projection {
  const drainPerSecond = reading.paidInWindow > 0 ? reading.paidInWindow / reading.windowSeconds : null;
  const projectedWaitSeconds =
    reading.backlog <= 0 ? 0 : drainPerSecond === null ? null : reading.backlog / drainPerSecond;
  return { ...reading, drainPerSecond, projectedWaitSeconds };
}

/**
 * The drain rate is measured over the last `windowSeconds`, but never over more time than the
 * oldest waiting order has waited (at least 1 s): at the start of a sale the quiet minute before it
 * would otherwise read as a slow fleet and refuse orders the fleet can pay in time.
 */
export function measurementWindowSeconds(oldestWaitingSeconds: number, windowSeconds: number): number {
  return Math.min(windowSeconds, Math.max(1, oldestWaitingSeconds));
}

export interface Refusal {
  status: 429 | 503;
  reason: RefusalReason;
  retryAfterSeconds: number;
  body: { error: string; [key: string]: unknown };
}

const retryAfter = (seconds: number) => Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));

/**
 * `limit` mode's decision for one async order. Over the limit: 429, retry once the excess has
 * drained (projected − limit). Unknown (orders wait, none paid in the window): the fleet is either
 * starting or stalled; it gets the benefit of the doubt until the oldest waiting order is
 * min(limit, window) old, then a stalled fleet gets no new promises.
 */
export function decideAsync(
  settings: IntakeSettings,
  projection: Projection,
  windowSeconds: number,
): Refusal | undefined {
  if (settings.mode === "paused") return pausedRefusal();
  const limit = settings.maxProjectedWaitSeconds;
  if (settings.mode !== "limit" || limit === null) return undefined;
  const projected = projection.projectedWaitSeconds;
  if (projected === null) {
    if (projection.oldestWaitingSeconds < Math.min(limit, windowSeconds)) return undefined;
    return {
      status: 429,
      reason: "limit",
      retryAfterSeconds: retryAfter(limit),
      body: {
        error: `intake limited: ${projection.backlog} orders wait and none was paid in the last ${round(projection.windowSeconds)} s, so the wait is unknown (limit ${limit} s)`,
        projectedWaitSeconds: null,
        maxProjectedWaitSeconds: limit,
      },
    };
  }
  if (projected <= limit) return undefined;
  return {
    status: 429,
    reason: "limit",
    retryAfterSeconds: retryAfter(projected - limit),
    body: {
      error: `intake limited: the projected wait is ${round(projected)} s, over the ${limit} s limit`,
      projectedWaitSeconds: round(projected),
      maxProjectedWaitSeconds: limit,
    },
  };
}

function pausedRefusal(): Refusal {
  return {
    status: 503,
    reason: "paused",
    retryAfterSeconds: PAUSED_RETRY_AFTER_SECONDS,
    body: { error: "order intake is paused by an operator" },
  };
}

/** The sync path's decision: paused, or a slot wait over SYNC_MAX_WAIT_MS, is a 503 now. */
export function decideSync(
  settings: IntakeSettings,
  slotWaitMs: number,
  syncMaxWaitMs: number | undefined,
): Refusal | undefined {
  if (settings.mode === "paused") return pausedRefusal();
  if (syncMaxWaitMs === undefined || slotWaitMs <= syncMaxWaitMs) return undefined;
  return {
    status: 503,
    reason: "sync_wait",
    retryAfterSeconds: retryAfter(slotWaitMs / 1000),
    body: {
      error: `no payment slot within ${syncMaxWaitMs} ms (the wait would be ${Math.round(slotWaitMs)} ms)`,
      slotWaitMs: Math.round(slotWaitMs),
      syncMaxWaitMs,
    },
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

interface AdmissionOptions {
  store: Pick<OrderStore, "countByStatus" | "activitySince" | "oldestWaitingAgeSeconds" | "getSetting" | "setSetting">;
  payments: Pick<PaymentProcessor, "estimateSlotWaitMs">;
  metrics: Pick<ApiMetrics, "refused">;
  /** SYNC_MAX_WAIT_MS; undefined = the sync path waits as long as it takes. */
  syncMaxWaitMs?: number | undefined;
  /** The drain-rate window, in seconds. Default 10. */
  windowSeconds?: number;
  /** How long one projection is reused by the accept path, in ms. Default 250. */
  projectionCacheMs?: number;
  /** How long the stored settings are reused (other API tasks' changes), in ms. Default 1000. */
  settingsCacheMs?: number;
  now?: () => number;
}

/**
 * Admission control for the order routes. The accept path reads a projection at most every
 * `projectionCacheMs` (three indexed store reads), and counts the orders it accepts in between,
 * so a burst between two reads cannot overshoot the limit.
 */
export class AdmissionControl {
  readonly syncMaxWaitMs: number | undefined;
  readonly windowSeconds: number;
  readonly refused = { limit: 0, paused: 0, syncWait: 0 };
  /** Synchronous requests this API admitted and has not answered yet (the order routes count them). */
  syncInFlight = 0;
  readonly #o: AdmissionOptions;
  readonly #now: () => number;
  #settings: IntakeSettings = OPEN;
  #settingsAt = Number.NEGATIVE_INFINITY;
  #settingsRead: Promise<IntakeSettings> | undefined;
  #reading: { at: number; value: DrainReading } | undefined;
  #readingPromise: Promise<DrainReading> | undefined;
  #acceptedSinceReading = 0;
  /** When this process's synchronous payments finished: they drain nothing from the fleet's backlog. */
  #syncPaidAt: number[] = [];

  constructor(options: AdmissionOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.syncMaxWaitMs = options.syncMaxWaitMs;
    this.windowSeconds = options.windowSeconds ?? 10;
  }

  async settings(): Promise<IntakeSettings> {
    if (this.#now() - this.#settingsAt < (this.#o.settingsCacheMs ?? 1000)) return this.#settings;
    this.#settingsRead ??= this.#o.store
      .getSetting<IntakeSettings>(INTAKE_SETTING)
      .then((stored) => {
        this.#settings = stored ?? OPEN;
        this.#settingsAt = this.#now();
        return this.#settings;
      })
      // The store being unreachable must not change the operator's choice: keep the last one.
      .catch(() => this.#settings)
      .finally(() => {
        this.#settingsRead = undefined;
      });
    return this.#settingsRead;
  }

  async setSettings(next: IntakeSettings): Promise<void> {
    await this.#o.store.setSetting(INTAKE_SETTING, next);
    this.#settings = next;
    this.#settingsAt = this.#now();
  }

  /** The current projection: cached for `projectionCacheMs`, plus the orders accepted since. */
  async projection(): Promise<Projection> {
    if (!this.#reading || this.#now() - this.#reading.at >= (this.#o.projectionCacheMs ?? 250)) {
      this.#readingPromise ??= this.#refresh().finally(() => {
        this.#readingPromise = undefined;
      });
      await this.#readingPromise;
    }
    const reading = this.#reading?.value;
    if (!reading) throw new Error("no drain reading");
    return projectWait({ ...reading, backlog: reading.backlog + this.#acceptedSinceReading });
  }

  async #refresh(): Promise<DrainReading> {
    // Orders accepted while the store is read may or may not be in its count: counting them twice
    // errs towards refusing, never towards a promise the fleet cannot keep.
    const acceptedBefore = this.#acceptedSinceReading;
    const value = await this.#read();
    this.#reading = { at: this.#now(), value };
    this.#acceptedSinceReading -= acceptedBefore;
    return value;
  }

  async #read(): Promise<DrainReading> {
    const now = this.#now();
    const [counts, oldestWaitingSeconds] = await Promise.all([
      this.#o.store.countByStatus(),
      this.#o.store.oldestWaitingAgeSeconds(),
    ]);
    const windowSeconds = measurementWindowSeconds(oldestWaitingSeconds, this.windowSeconds);
    const since = now - windowSeconds * 1000;
    const { paid } = await this.#o.store.activitySince(since, 1);
    this.#syncPaidAt = this.#syncPaidAt.filter((t) => t >= now - this.windowSeconds * 1000);
    const syncPaid = this.#syncPaidAt.filter((t) => t >= since).length;
    return {
      backlog: counts.queued + counts.failed + Math.max(0, counts.processing - this.syncInFlight),
      paidInWindow: Math.max(0, paid - syncPaid),
      windowSeconds,
      oldestWaitingSeconds,
    };
  }

  /** POST /orders/async: undefined to accept, or the refusal to answer. */
  async admitAsync(): Promise<Refusal | undefined> {
    const settings = await this.settings();
    if (settings.mode === "open") return undefined;
    const refusal =
      settings.mode === "paused" ? pausedRefusal() : decideAsync(settings, await this.projection(), this.windowSeconds);
    if (refusal) this.#count(refusal);
    return refusal;
  }

  /** POST /orders/sync, with `ahead` requests before this one for this API's payment slots. */
  async admitSync(ahead: number): Promise<Refusal | undefined> {
    const settings = await this.settings();
    const refusal = decideSync(settings, this.#o.payments.estimateSlotWaitMs(ahead), this.syncMaxWaitMs);
    if (refusal) this.#count(refusal);
    return refusal;
  }

  /** An async order was recorded: it is in the backlog the next decision must see. */
  noteAccepted(): void {
    this.#acceptedSinceReading++;
  }

  /** A synchronous order was paid by this API: not the fleet draining its backlog. */
  noteSyncPaid(): void {
    const now = this.#now();
    // Kept to the window even when nothing reads a projection (intake open, no scrapes).
    while ((this.#syncPaidAt[0] ?? now) < now - this.windowSeconds * 1000) this.#syncPaidAt.shift();
    this.#syncPaidAt.push(now);
  }

  #count(refusal: Refusal): void {
    this.#o.metrics.refused.labels(refusal.reason).inc();
    if (refusal.reason === "sync_wait") this.refused.syncWait++;
    else this.refused[refusal.reason]++;
  }
}

const updateSchema = z.strictObject({
  mode: z.enum(["open", "limit", "paused"]),
  /** Seconds; required for `limit` unless one is stored already. */
  maxProjectedWaitSeconds: z.number().min(1).max(86_400).nullable().optional(),
});

/** What GET and PUT /ops/intake answer, and the `intake` section of the state snapshot. */
export interface IntakeView {
  mode: IntakeMode;
  maxProjectedWaitSeconds: number | null;
  /** Null when orders wait and nothing was paid in the window (unknown). */
  projectedWaitSeconds: number | null;
  backlog: number;
  drainPerSecond: number | null;
  windowSeconds: number;
  /** Refusals by this API process since it started (every process: surge_orders_refused_total). */
  refused: { limit: number; paused: number; syncWait: number };
  syncMaxWaitMs: number | null;
}

/** `GET /ops/intake`, `PUT /ops/intake`, the `intake` state section and the projected-wait gauge. */
export function intakeModule(admission: AdmissionControl): OpsModule {
  const view = async (settings?: IntakeSettings): Promise<IntakeView> => {
    const [s, p] = await Promise.all([settings ?? admission.settings(), admission.projection()]);
    return {
      mode: s.mode,
      maxProjectedWaitSeconds: s.maxProjectedWaitSeconds,
      projectedWaitSeconds: p.projectedWaitSeconds === null ? null : round(p.projectedWaitSeconds),
      backlog: p.backlog,
      drainPerSecond: p.drainPerSecond === null ? null : round(p.drainPerSecond),
      windowSeconds: round(p.windowSeconds),
      refused: { ...admission.refused },
      syncMaxWaitMs: admission.syncMaxWaitMs ?? null,
    };
  };
  return {
    name: "intake",
    routes(router, ctx) {
      new Gauge({
        name: "surge_intake_projected_wait_seconds",
        help: "Projected wait of a new async order: backlog ÷ measured drain rate (+Inf when orders wait and none was paid).",
        registers: [ctx.metrics.registry],
        async collect() {
          const p = await admission.projection().catch(() => undefined);
          if (p) this.set(p.projectedWaitSeconds ?? Number.POSITIVE_INFINITY);
        },
      });
      ctx.state.register("intake", () => view());

      router.get("/intake", async (_req, res) => {
        res.json(await view());
      });

      router.put("/intake", async (req, res) => {
        const body = parseOrThrow(updateSchema, req.body ?? {}, "intake");
        const before = await admission.settings();
        const limit =
          body.maxProjectedWaitSeconds === undefined ? before.maxProjectedWaitSeconds : body.maxProjectedWaitSeconds;
        if (body.mode === "limit" && limit === null) {
          const message = "required in limit mode (1 to 86400 seconds)";
          throw new ValidationError(`invalid intake: maxProjectedWaitSeconds: ${message}`, [
            { field: "maxProjectedWaitSeconds", message },
          ]);
        }
        const next: IntakeSettings = { mode: body.mode, maxProjectedWaitSeconds: limit };
        await admission.setSettings(next);
        const actor = actorOf(res);
        await ctx.audit.record(actor, "intake.set", { before, after: next });
        ctx.log.info("intake changed", { actor: actor.label, ...next });
        res.json(await view(next));
      });
    },
  };
}
