import { EventEmitter } from "node:events";
import type { InvocationResult } from "./function.js";
import { TooManyRequestsError } from "./function.js";

/** Anything that can be invoked like a LocalLambdaFunction (throws TooManyRequestsError when at capacity). */
interface Invocable {
  invoke(event: unknown, options?: { requestId?: string }): Promise<InvocationResult>;
}

/** One asynchronous invocation request: an SNS delivery, or an `Event` invoke. */
interface AsyncEvent {
  /** Identifies the event across its retries (the SNS MessageId). */
  id: string;
  payload: unknown;
  /** When Lambda accepted the event, epoch ms: its age counts from here. */
  acceptedAtMs: number;
}

export type AsyncOutcome =
  | { kind: "success"; attempts: number; throttles: number; requestId: string }
  | { kind: "dead"; reason: string; attempts: number; throttles: number };

export interface AsyncInvokerOptions {
  /**
   * Invocations an event gets when they fail (handler error, timeout, crash)
   * before it goes to the dead-letter queue: Lambda's first try plus its
   * MaximumRetryAttempts (2), the study's "3 attempts". Default 3.
   */
  maxAttempts?: number;
  /** Wait before the first retry after a failure, in ms; doubles per attempt. Default 1000 (Lambda waits ~1 min). */
  retryBaseDelayMs?: number;
  /** Wait after a throttle, in ms; doubles per throttle of the same event, up to the maximum. Default 500. */
  throttleBaseDelayMs?: number;
  /** Longest wait after a throttle, in ms. Default 30000. */
  throttleMaxDelayMs?: number;
  /**
   * Oldest an event may get while it is throttled or retried before it is
   * dead-lettered, in ms. Default 21600000 (6 h: Lambda's MaximumEventAgeInSeconds).
   */
  maxEventAgeMs?: number;
  random?: () => number;
}

interface Entry {
  event: AsyncEvent;
  attempts: number;
  throttles: number;
  dueAtMs: number;
  onSettled: (outcome: AsyncOutcome) => void;
}

interface AsyncInvokerEvents {
  retry: [{ id: string; reason: "throttle" | "error"; delayMs: number }];
  settled: [{ id: string; outcome: AsyncOutcome }];
}

/**
 * Lambda's asynchronous invocation, as SNS uses it. Throttles do not use up an event's attempts (as
 * on Lambda), so a flash sale against a small reserved concurrency waits rather than dead-letters.
 */
export class AsyncInvoker extends EventEmitter<AsyncInvokerEvents> {
  readonly #o: Required<AsyncInvokerOptions>;
  readonly #waiting: Entry[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #timerDueAtMs = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(
    readonly fn: Invocable,
    options: AsyncInvokerOptions = {},
  ) {
    super();
    this.#o = {
      maxAttempts: options.maxAttempts ?? 3,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 1000,
      throttleBaseDelayMs: options.throttleBaseDelayMs ?? 500,
      throttleMaxDelayMs: options.throttleMaxDelayMs ?? 30_000,
      maxEventAgeMs: options.maxEventAgeMs ?? 6 * 3600_000,
      random: options.random ?? Math.random,
    };
    if (!Number.isInteger(this.#o.maxAttempts) || this.#o.maxAttempts < 1 || this.#o.maxAttempts > 3) {
      throw new RangeError(`maxAttempts must be 1..3 (Lambda allows 0..2 retries), got ${this.#o.maxAttempts}`);
    }
  }

  /** Events accepted and not yet settled: waiting for their turn or being invoked. */
  get pending(): number {
    return this.#waiting.length + this.#inFlight.size;
  }

  /** Accepts an event; `onSettled` hears once whether it succeeded or is dead. */
  enqueue(event: AsyncEvent, onSettled: (outcome: AsyncOutcome) => void = () => {}): void {
    if (this.#closed) throw new Error("async invoker is closed");
    this.#schedule({ event, attempts: 0, throttles: 0, dueAtMs: Date.now(), onSettled });
  }

  #schedule(entry: Entry): void {
    this.#waiting.push(entry);
    this.#arm();
  }

  /** One timer for the earliest due event. */
  #arm(): void {
    if (this.#closed || this.#waiting.length === 0) return;
    const next = Math.min(...this.#waiting.map((e) => e.dueAtMs));
    if (this.#timer && next >= this.#timerDueAtMs) return;
    clearTimeout(this.#timer);
    this.#timerDueAtMs = next;
    this.#timer = setTimeout(() => this.#pump(), Math.max(0, next - Date.now()));
  }

  #pump(): void {
    this.#timer = undefined;
    this.#timerDueAtMs = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    const now = Date.now();
    // Oldest first among those due: the order the events came in, as far as retries allow.
    const due = this.#waiting.filter((e) => e.dueAtMs <= now).sort((a, b) => a.dueAtMs - b.dueAtMs);
    for (const entry of due) {
      this.#waiting.splice(this.#waiting.indexOf(entry), 1);
      const attempt = this.#attempt(entry).finally(() => this.#inFlight.delete(attempt));
      this.#inFlight.add(attempt);
    }
    this.#arm();
  }

  async #attempt(entry: Entry): Promise<void> {
    let result: InvocationResult;
    try {
      result = await this.fn.invoke(entry.event.payload);
    } catch (error) {
      if (!(error instanceof TooManyRequestsError)) {
        entry.attempts++;
        this.#failed(entry, `${(error as Error).name ?? "Error"}: ${(error as Error).message ?? String(error)}`);
        return;
      }
      entry.throttles++;
      const exp = Math.min(this.#o.throttleMaxDelayMs, this.#o.throttleBaseDelayMs * 2 ** (entry.throttles - 1));
      this.#retry(entry, "throttle", this.#jitter(exp), "throttled until the event's maximum age");
      return;
    }
    entry.attempts++;
    if (result.ok) {
      this.#settle(entry, {
        kind: "success",
        attempts: entry.attempts,
        throttles: entry.throttles,
        requestId: result.requestId,
      });
      return;
    }
    this.#failed(entry, `${result.errorType}: ${result.errorMessage}`);
  }

  #failed(entry: Entry, reason: string): void {
    if (entry.attempts >= this.#o.maxAttempts) {
      this.#settle(entry, {
        kind: "dead",
        reason: `failed ${entry.attempts} attempt(s): ${reason}`.slice(0, 1000),
        attempts: entry.attempts,
        throttles: entry.throttles,
      });
      return;
    }
    const exp = this.#o.retryBaseDelayMs * 2 ** (entry.attempts - 1);
    this.#retry(entry, "error", this.#jitter(exp), reason);
  }

  #retry(entry: Entry, why: "throttle" | "error", delayMs: number, deadReason: string): void {
    const now = Date.now();
    if (now + delayMs - entry.event.acceptedAtMs > this.#o.maxEventAgeMs) {
      const ageSeconds = Math.round((now - entry.event.acceptedAtMs) / 1000);
      this.#settle(entry, {
        kind: "dead",
        reason: `event reached its maximum age (${ageSeconds} s) after ${entry.attempts} attempt(s) and ${entry.throttles} throttle(s): ${deadReason}`,
        attempts: entry.attempts,
        throttles: entry.throttles,
      });
      return;
    }
    this.emit("retry", { id: entry.event.id, reason: why, delayMs });
    entry.dueAtMs = now + delayMs;
    this.#schedule(entry);
  }

  #settle(entry: Entry, outcome: AsyncOutcome): void {
    this.emit("settled", { id: entry.event.id, outcome });
    entry.onSettled(outcome);
  }

  /** Equal jitter: half fixed, half random, so retries of a burst spread out instead of colliding. */
  #jitter(ms: number): number {
    return Math.round(ms / 2 + this.#o.random() * (ms / 2));
  }

  /**
   * Stops invoking: events still waiting are dropped unsettled (their source
   * redelivers them), invocations in flight finish. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#waiting.length = 0;
    await Promise.allSettled([...this.#inFlight]);
  }
}
