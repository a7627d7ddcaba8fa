import { errorMessage, type Logger, type OrderStore, type SaleWindow } from "@surge/core";
import type { Autoscaler, ScheduledFloor } from "../autoscaling/types.js";
import { activeWindow } from "./windows.js";

interface SaleSchedulerOptions {
  store: Pick<OrderStore, "listSaleWindows">;
  autoscaler: Pick<Autoscaler, "setScheduledFloor" | "scheduledFloor">;
  log: Logger;
  /** Time between checks of the schedule, in ms. Default 1000: a window starts within a second of its time. */
  intervalMs?: number;
  /**
   * The local Lambda runtime's provisioned concurrency, set to a window's
   * `lambdaProvisionedConcurrency` at its start and returned (null) at its end. On AWS,
   * Application Auto Scaling does it (capacity.ts), so this is left out.
   */
  lambda?: { setProvisionedConcurrency(value: number | null): Promise<unknown> };
  /** The clock (tests pass a fake one). Default Date.now. */
  now?: () => number;
}

/**
 * Applies the schedule kept in the store: at a window's start the fleet's floor goes up to its
 * minimum, at its end (or cancellation) it comes down. It holds no state of its own, so a restarted
 * API (or another API task) finds the window in force from the store alone.
 */
export class SaleScheduler {
  readonly #o: SaleSchedulerOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #ticking: Promise<void> | undefined;
  /** What this process last set on the Lambda runtime; undefined until the first check succeeds. */
  #lambdaApplied: { windowId: string | null; value: number | null } | undefined;

  constructor(options: SaleSchedulerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async close(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ticking;
  }

  /** One check: the floor the store's schedule says, applied if it changed. Public for tests with a fake clock. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    const nowMs = this.#now();
    const windows = await this.#o.store.listSaleWindows({ endsAfterMs: nowMs });
    const active = activeWindow(windows, nowMs);
    await this.#applyLambda(active);
    const floor = active ? floorOf(active) : null;
    const current = this.#o.autoscaler.scheduledFloor();
    if (current?.windowId === floor?.windowId && current?.minTasks === floor?.minTasks) return;
    await this.#o.autoscaler.setScheduledFloor(floor, nowMs);
    this.#o.log.info(floor ? "sale window started" : "sale window over", {
      windowId: floor?.windowId ?? current?.windowId,
      minTasks: floor?.minTasks ?? null,
    });
  }

  /**
   * Provisioned concurrency follows the window in force. A runtime that did not answer is tried
   * again at the next check; it never holds up the fleet's floor.
   */
  async #applyLambda(active: SaleWindow | undefined): Promise<void> {
    const lambda = this.#o.lambda;
    if (!lambda) return;
    const want = {
      windowId: active && active.lambdaProvisionedConcurrency !== null ? active.id : null,
      value: active?.lambdaProvisionedConcurrency ?? null,
    };
    const applied = this.#lambdaApplied;
    if (applied && applied.windowId === want.windowId && applied.value === want.value) return;
    try {
      await lambda.setProvisionedConcurrency(want.value);
      this.#lambdaApplied = want;
      this.#o.log.info(
        want.value === null ? "Lambda provisioned concurrency released" : "Lambda provisioned concurrency set",
        { windowId: want.windowId ?? applied?.windowId ?? null, provisionedConcurrency: want.value },
      );
    } catch (error) {
      this.#o.log.warn("Lambda provisioned concurrency not applied; retrying at the next check", {
        windowId: want.windowId,
        provisionedConcurrency: want.value,
        error: errorMessage(error),
      });
    }
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.#o.log.warn("sale schedule check failed", { error: errorMessage(error) }))
        .finally(() => this.#schedule(this.#o.intervalMs ?? 1000));
    }, delayMs);
    this.#timer.unref();
  }
}

export function floorOf(window: SaleWindow): ScheduledFloor {
  return { windowId: window.id, minTasks: window.minTasks, endsAt: new Date(window.endsAtMs).toISOString() };
}
