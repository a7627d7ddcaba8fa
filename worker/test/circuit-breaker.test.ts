import { describe, expect, it } from "vitest";
import { CircuitBreaker, type CircuitState } from "../src/circuit-breaker.js";

function clocked(options: ConstructorParameters<typeof CircuitBreaker>[0] = {}) {
  let now = 1_000_000;
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    openMs: 5000,
    maxOpenMs: 20_000,
    now: () => now,
    ...options,
  });
  const changes: CircuitState[] = [];
  breaker.on("change", ({ to }) => changes.push(to));
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after consecutive unavailable failures and takes no orders while open", () => {
    const { breaker, changes } = clocked();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
    expect(breaker.permits(10)).toBe(10);
    breaker.failure();
    expect(breaker.state).toBe("open");
    expect(breaker.permits(10)).toBe(0);
    expect(breaker.remainingOpenMs).toBe(5000);
    expect(changes).toEqual(["open"]);
  });

  it("a success in between resets the count", () => {
    const { breaker } = clocked();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
  });

  it("lets exactly one probe through when the period ends, and closes on its success", () => {
    const { breaker, changes, advance } = clocked();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(5000);
    expect(breaker.state).toBe("half-open");
    expect(breaker.permits(10)).toBe(1);
    expect(breaker.permits(10)).toBe(0); // one probe at a time
    breaker.success();
    expect(breaker.state).toBe("closed");
    expect(breaker.permits(10)).toBe(10);
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });

  it("a failed probe reopens for twice as long, up to the maximum", () => {
    const { breaker, advance } = clocked();
    for (let i = 0; i < 3; i++) breaker.failure();
    const periods: number[] = [];
    for (let i = 0; i < 4; i++) {
      advance(breaker.remainingOpenMs);
      expect(breaker.permits(1)).toBe(1);
      breaker.failure();
      periods.push(breaker.remainingOpenMs);
    }
    expect(periods).toEqual([10_000, 20_000, 20_000, 20_000]);
    // Recovery resets the period.
    advance(20_000);
    breaker.permits(1);
    breaker.success();
    for (let i = 0; i < 3; i++) breaker.failure();
    expect(breaker.remainingOpenMs).toBe(5000);
  });

  it("a probe that found no message or a poison message frees the next probe", () => {
    const { breaker, advance } = clocked();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(5000);
    expect(breaker.permits(5)).toBe(1);
    breaker.releaseProbe();
    expect(breaker.state).toBe("half-open");
    expect(breaker.permits(5)).toBe(1);
  });
});
