import { EventEmitter } from "node:events";

export type CircuitState = "closed" | "open" | "half-open";

interface CircuitBreakerOptions {
  /** Consecutive "processor unavailable" failures that open the circuit. Default 3. */
  failureThreshold?: number;
  /** First open period, in ms; doubles each time a probe fails. Default 5000. */
  openMs?: number;
  /** Longest open period, in ms. Default 60000. */
  maxOpenMs?: number;
  now?: () => number;
}

/**
 * Per-task breaker around the payment processor: while it is down, retrying every order would burn
 * receives and dead-letter orders that did nothing wrong, so an open circuit takes no new messages.
 */
export class CircuitBreaker extends EventEmitter<{ change: [{ from: CircuitState; to: CircuitState }] }> {
  readonly #threshold: number;
  readonly #baseOpenMs: number;
  readonly #maxOpenMs: number;
  readonly #now: () => number;
  #state: CircuitState = "closed";
  #failures = 0;
  #openMs: number;
  #openUntil = 0;
  #probing = false;

  constructor(options: CircuitBreakerOptions = {}) {
    super();
    this.#threshold = options.failureThreshold ?? 3;
    this.#baseOpenMs = options.openMs ?? 5000;
    this.#maxOpenMs = options.maxOpenMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#openMs = this.#baseOpenMs;
  }

  get state(): CircuitState {
    if (this.#state === "open" && this.#now() >= this.#openUntil) this.#set("half-open");
    return this.#state;
  }

  /** Milliseconds until a probe may go through (0 unless open). */
  get remainingOpenMs(): number {
    return this.state === "open" ? this.#openUntil - this.#now() : 0;
  }

  /**
   * How many new orders the task may take now: all it wants when closed, one
   * probe at a time when half-open, none when open.
   */
  permits(wanted: number): number {
    switch (this.state) {
      case "closed":
        return wanted;
      case "open":
        return 0;
      case "half-open":
        if (this.#probing) return 0;
        this.#probing = true;
        return Math.min(1, wanted);
    }
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    if (this.#state !== "closed") {
      this.#openMs = this.#baseOpenMs;
      this.#set("closed");
    }
  }

  /** The probe said nothing about the processor (no message, a poison message): let the next one try. */
  releaseProbe(): void {
    this.#probing = false;
  }

  /** A "processor unavailable" failure. Other failures (a declined card) say nothing about the processor. */
  failure(): void {
    this.#failures++;
    const probeFailed = this.#state === "half-open";
    this.#probing = false;
    if (probeFailed || (this.#state === "closed" && this.#failures >= this.#threshold)) {
      if (probeFailed) this.#openMs = Math.min(this.#maxOpenMs, this.#openMs * 2);
      this.#openUntil = this.#now() + this.#openMs;
      this.#set("open");
    }
  }

  #set(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.emit("change", { from, to });
  }
}

export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, "half-open": 2 };
