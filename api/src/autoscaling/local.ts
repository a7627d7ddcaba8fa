import { EventEmitter } from "node:events";
import { errorMessage, type Logger, type OrderStore, Semaphore } from "@surge/core";
import type { Fleet } from "../fleet/types.js";
import type { AuditLog } from "../ops/audit.js";
import type { ActivityLog } from "./activity-log.js";
import type { BacklogSource } from "./backlog.js";
import { type Decision, decide, remember, type ScalingMemory, type ScalingPolicy } from "./policy.js";
import type {
  Autoscaler,
  AutoscalingState,
  Evaluation,
  ScaledEvent,
  ScalingActivity,
  ScheduledFloor,
  Suspension,
} from "./types.js";

/** The store setting that holds the policy, the suspension and the cooldown clocks. */
const AUTOSCALING_SETTING = "autoscaling";

interface StoredAutoscaling {
  policy: ScalingPolicy;
  suspended?: Suspension | undefined;
  lastScaleOutAtMs?: number | undefined;
  lastScaleInAtMs?: number | undefined;
}

interface LocalAutoscalerOptions {
  store: Pick<OrderStore, "getSetting" | "setSetting">;
  fleet: Fleet;
  backlog: Pick<BacklogSource, "read">;
  activities: ActivityLog;
  audit: AuditLog;
  log: Logger;
  /** The policy used until one is stored (from AUTOSCALING_* variables). */
  defaults: ScalingPolicy;
  /** Time between evaluations, in ms. Default 2000. */
  evaluationIntervalMs?: number;
  /** The clock (tests pass a fake one). Default Date.now. */
  now?: () => number;
}

/**
 * The local autoscaler: an evaluation loop in the API process, its clocks in the store so a restart
 * keeps them. Evaluations and operator changes share a lock, so none lands after a manual scale.
 */
export class LocalAutoscaler extends EventEmitter<{ scaled: [ScaledEvent] }> implements Autoscaler {
  readonly kind = "local" as const;
  readonly #o: Required<Omit<LocalAutoscalerOptions, "now">>;
  readonly #now: () => number;
  readonly #lock = new Semaphore(1);
  #stored: StoredAutoscaling | undefined;
  #memory: ScalingMemory;
  #last: Evaluation | undefined;
  /** The last held decision recorded, so a hold is logged once, not at every evaluation. */
  #lastHeld = "";
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closing: Promise<void> | undefined;
  #floor: ScheduledFloor | null = null;

  constructor(options: LocalAutoscalerOptions) {
    super();
    this.#o = { evaluationIntervalMs: 2000, ...options };
    this.#now = options.now ?? Date.now;
    this.#memory = { observingSinceMs: this.#now(), needs: [] };
  }

  start(): void {
    if (this.#running || this.#closing) return;
    this.#running = true;
    this.#memory = { ...this.#memory, observingSinceMs: this.#now(), needs: [] };
    this.#schedule();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#running = false;
      if (this.#timer) clearTimeout(this.#timer);
      // Waits for an evaluation in progress to finish its write and its record.
      await this.#lock.use(async () => {});
    })();
    return this.#closing;
  }

  async state(): Promise<AutoscalingState> {
    const stored = await this.#load();
    return this.#view(stored);
  }

  async setPolicy(given: ScalingPolicy, actor: string): Promise<AutoscalingState> {
    const policy = policyOnly(given);
    const state = await this.#lock.use(async () => {
      const before = await this.#load();
      const next: StoredAutoscaling = { ...before, policy, suspended: policy.enabled ? undefined : before.suspended };
      await this.#save(next);
      if (policy.enabled && !before.policy.enabled) {
        // A fresh start: scale-in needs a full window of new evidence.
        this.#memory = { ...this.#memory, observingSinceMs: this.#now(), needs: [] };
        this.#lastHeld = "";
        await this.#o.activities.recordControl(
          actor,
          `${actor} enabled the policy: the autoscaler controls the desired count (${policy.minTasks}..${policy.maxTasks} tasks, target ${policy.targetBacklogPerTask}/task${policy.targetOldestAgeSeconds === null ? "" : `, oldest order ${policy.targetOldestAgeSeconds} s`})`,
          "local",
          this.#now(),
        );
      } else if (!policy.enabled && before.policy.enabled) {
        await this.#o.activities.recordControl(
          actor,
          `${actor} disabled the policy: the desired count stays where it is until set by hand`,
          "local",
          this.#now(),
        );
      }
      return this.#view(next);
    });
    // Enabling acts at once rather than at the next tick.
    if (policy.enabled && this.#running) void this.evaluate().catch(() => {});
    return state;
  }

  suspend(actor: string, reason: string): Promise<AutoscalingState> {
    return this.#lock.use(async () => {
      const before = await this.#load();
      if (!before.policy.enabled) return this.#view(before);
      const suspended: Suspension = { at: new Date(this.#now()).toISOString(), by: actor, reason };
      const next: StoredAutoscaling = { ...before, policy: { ...before.policy, enabled: false }, suspended };
      await this.#save(next);
      await this.#o.activities.recordSuspension(actor, reason, "local", this.#now());
      return this.#view(next);
    });
  }

  activities(limit: number): Promise<ScalingActivity[]> {
    return this.#o.activities.list(limit);
  }

  scheduledFloor(): ScheduledFloor | null {
    return this.#floor;
  }

  /**
   * A sale window starts: the desired count is raised to its minimum at once, whoever controls the
   * fleet (as AWS's scheduled actions do), and the policy's minimum is raised while it lasts. It
   * ends: the floor goes; the autoscaler, if on, scales in with its usual cooldowns.
   */
  setScheduledFloor(floor: ScheduledFloor | null, nowMs = this.#now()): Promise<void> {
    return this.#lock.use(async () => {
      const before = this.#floor;
      if (before?.windowId === floor?.windowId && before?.minTasks === floor?.minTasks) return;
      this.#floor = floor;
      const stored = await this.#load();
      if (!floor) {
        const fleet = await this.#o.fleet.describe();
        await this.#o.activities.recordControl(
          "schedule",
          `sale window ${before?.windowId} ended: the floor of ${before?.minTasks} tasks is lifted; ${
            stored.policy.enabled
              ? `the autoscaler scales in to what the backlog needs (min ${stored.policy.minTasks}) after its cooldown`
              : `the desired count stays at ${fleet.desiredCount} until set by hand (the policy is off)`
          }`,
          "local",
          nowMs,
        );
        return;
      }
      const fleet = await this.#o.fleet.describe();
      const from = fleet.desiredCount;
      const cause = `sale window ${floor.windowId} holds at least ${floor.minTasks} tasks until ${floor.endsAt}`;
      if (from >= floor.minTasks) {
        await this.#o.activities.recordControl("schedule", `${cause}; already at ${from}`, "local", nowMs);
        return;
      }
      try {
        await this.#o.fleet.setDesiredCount(floor.minTasks);
      } catch (error) {
        await this.#record({
          actor: "schedule",
          direction: "out",
          status: "failed",
          from,
          to: floor.minTasks,
          cause: `${cause}; failed: ${errorMessage(error)}`,
        });
        // Not applied: the scheduler tries again at its next check.
        this.#floor = before;
        throw error;
      }
      await this.#save({ ...stored, lastScaleOutAtMs: nowMs });
      await this.#record({
        actor: "schedule",
        direction: "out",
        status: "successful",
        from,
        to: floor.minTasks,
        cause,
        running: fleet.running,
      });
      await this.#o.audit.record("schedule", "fleet.scale", {
        before: { desiredCount: from },
        after: { desiredCount: floor.minTasks },
        detail: cause,
      });
      this.#o.log.info("sale window raised the fleet", { from, to: floor.minTasks, windowId: floor.windowId });
      this.emit("scaled", { direction: "out", from, to: floor.minTasks });
    });
  }

  /**
   * One evaluation: reads the backlog and the fleet, decides, acts, records.
   * Returns the decision, or undefined when the policy is off. Public so tests
   * drive it step by step with a fake clock.
   */
  evaluate(): Promise<Decision | undefined> {
    return this.#lock.use(async () => {
      const stored = await this.#load();
      const policy = withFloor(stored.policy, this.#floor);
      if (!policy.enabled) return undefined;
      const [reading, fleet] = await Promise.all([this.#o.backlog.read(), this.#o.fleet.describe()]);
      const nowMs = this.#now();
      const memory: ScalingMemory = {
        ...this.#memory,
        lastScaleOutAtMs: stored.lastScaleOutAtMs,
        lastScaleInAtMs: stored.lastScaleInAtMs,
      };
      const decision = decide(
        policy,
        {
          nowMs,
          backlog: reading.backlog,
          oldestAgeSeconds: reading.oldestAgeSeconds,
          running: fleet.running,
          desired: fleet.desiredCount,
        },
        memory,
      );
      remember(this.#memory, policy, nowMs, decision.needed);
      this.#last = {
        at: new Date(nowMs).toISOString(),
        backlog: reading.backlog,
        running: fleet.running,
        desired: fleet.desiredCount,
        needed: decision.needed,
        oldestAgeSeconds: reading.oldestAgeSeconds,
        signal: decision.signal,
        cause: decision.cause,
      };
      const observed = {
        backlog: reading.backlog,
        running: fleet.running,
        oldestAgeSeconds: reading.oldestAgeSeconds,
        signal: decision.signal,
        ...(reading.sqsVisible !== undefined && { sqsVisible: reading.sqsVisible }),
      };

      if (decision.action === "hold") {
        const key = `${decision.direction}:${fleet.desiredCount}→${decision.to}`;
        if (key !== this.#lastHeld) {
          this.#lastHeld = key;
          await this.#record({
            actor: "autoscaler",
            direction: decision.direction,
            status: "held",
            from: fleet.desiredCount,
            to: decision.to,
            cause: decision.cause,
            ...observed,
          });
        }
        return decision;
      }
      if (decision.action === "none") return decision;

      this.#lastHeld = "";
      const from = fleet.desiredCount;
      try {
        await this.#o.fleet.setDesiredCount(decision.to);
      } catch (error) {
        this.#o.log.warn("autoscaler could not set the desired count", { to: decision.to, error: errorMessage(error) });
        await this.#record({
          actor: "autoscaler",
          direction: decision.action,
          status: "failed",
          from,
          to: decision.to,
          cause: `${decision.cause}; failed: ${errorMessage(error)}`,
          ...observed,
        });
        return decision;
      }
      await this.#save({
        ...stored,
        ...(decision.action === "out" ? { lastScaleOutAtMs: nowMs } : { lastScaleInAtMs: nowMs }),
      });
      await this.#record({
        actor: "autoscaler",
        direction: decision.action,
        status: "successful",
        from,
        to: decision.to,
        cause: decision.cause,
        ...observed,
      });
      await this.#o.audit.record("autoscaler", "fleet.scale", {
        before: { desiredCount: from },
        after: { desiredCount: decision.to },
        detail: decision.cause,
      });
      this.#o.log.info("autoscaled", { from, to: decision.to, cause: decision.cause });
      this.emit("scaled", { direction: decision.action, from, to: decision.to });
      return decision;
    });
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.evaluate()
        .catch((error: unknown) => {
          // No data, no action: a store or fleet that does not answer never scales the fleet.
          this.#o.log.warn("autoscaler evaluation failed", { error: errorMessage(error) });
        })
        .finally(() => this.#schedule());
    }, this.#o.evaluationIntervalMs);
    this.#timer.unref();
  }

  async #load(): Promise<StoredAutoscaling> {
    if (!this.#stored) {
      const stored = (await this.#o.store.getSetting<StoredAutoscaling>(AUTOSCALING_SETTING)) ?? {
        policy: this.#o.defaults,
      };
      // A policy stored before the age target existed scales on the backlog only.
      this.#stored = {
        ...stored,
        policy: { ...stored.policy, targetOldestAgeSeconds: stored.policy.targetOldestAgeSeconds ?? null },
      };
    }
    return this.#stored;
  }

  async #save(next: StoredAutoscaling): Promise<void> {
    await this.#o.store.setSetting(AUTOSCALING_SETTING, next);
    this.#stored = next;
  }

  #record(activity: Omit<ScalingActivity, "id" | "at" | "source">): Promise<ScalingActivity> {
    return this.#o.activities.record({ ...activity, source: "local" }, this.#now());
  }

  #view(stored: StoredAutoscaling): AutoscalingState {
    return {
      kind: "local",
      ...stored.policy,
      controlledBy: stored.policy.enabled ? "autoscaler" : "operator",
      ...(stored.suspended && { suspended: stored.suspended }),
      ...(this.#floor && { scheduledFloor: this.#floor }),
      ...(this.#last && { lastEvaluation: this.#last }),
    };
  }
}

/** Exactly the policy's fields, whatever else the caller's object carries (a whole state, say). */
function policyOnly(p: ScalingPolicy): ScalingPolicy {
  return {
    enabled: p.enabled,
    minTasks: p.minTasks,
    maxTasks: p.maxTasks,
    targetBacklogPerTask: p.targetBacklogPerTask,
    scaleOutCooldownSeconds: p.scaleOutCooldownSeconds,
    scaleInCooldownSeconds: p.scaleInCooldownSeconds,
    targetOldestAgeSeconds: p.targetOldestAgeSeconds ?? null,
  };
}

/** The policy a sale window's floor makes: its minimum (and, if need be, maximum) raised to the floor. */
export function withFloor(policy: ScalingPolicy, floor: ScheduledFloor | null): ScalingPolicy {
  if (!floor) return policy;
  return {
    ...policy,
    minTasks: Math.max(policy.minTasks, floor.minTasks),
    maxTasks: Math.max(policy.maxTasks, floor.minTasks),
  };
}
