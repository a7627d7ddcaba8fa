import type { BurstStage } from "./spec.js";

/** A stretch of time over which the target rate moves linearly from `fromRate` to `toRate` (orders/s). */
interface Segment {
  startMs: number;
  endMs: number;
  fromRate: number;
  toRate: number;
  /** Arrivals expected before the segment starts (the integral of the rate up to startMs). */
  unitsBefore: number;
}

/**
 * The target arrival rate of a burst over time, piecewise linear, as k6's ramping-arrival-rate
 * executor has it. Arrivals are placed by the integral of the rate, Λ(t) (expected arrivals by
 * time t): the k-th arrival of an evenly spaced process is at Λ⁻¹(k), and a Poisson process of
 * this rate is a unit-rate one mapped through Λ⁻¹ (the time-change theorem), so both follow
 * ramps exactly without any per-tick rounding.
 */
export class RateSchedule {
  readonly #segments: Segment[];

  private constructor(segments: Segment[]) {
    this.#segments = segments;
  }

  /** `startRate` then each stage's linear move, from t = 0 (ms). */
  static fromStages(startRate: number, stages: ReadonlyArray<BurstStage>): RateSchedule {
    const segments: Segment[] = [];
    let t = 0;
    let rate = startRate;
    let units = 0;
    for (const stage of stages) {
      const endMs = t + stage.durationSeconds * 1000;
      if (endMs > t) {
        const segment = { startMs: t, endMs, fromRate: rate, toRate: stage.ratePerSecond, unitsBefore: units };
        segments.push(segment);
        units += unitsIn(segment);
      }
      t = endMs;
      rate = stage.ratePerSecond;
    }
    return new RateSchedule(segments);
  }

  static constant(ratePerSecond: number, durationMs: number): RateSchedule {
    return RateSchedule.fromStages(ratePerSecond, [{ durationSeconds: durationMs / 1000, ratePerSecond }]);
  }

  get endMs(): number {
    return this.#segments.at(-1)?.endMs ?? 0;
  }

  /** The target rate at `tMs` (orders/s); the last rate after the end. */
  rateAt(tMs: number): number {
    const s = this.#segmentAt(tMs);
    if (!s) return this.#segments.at(-1)?.toRate ?? 0;
    const span = s.endMs - s.startMs;
    return s.fromRate + ((s.toRate - s.fromRate) * (tMs - s.startMs)) / span;
  }

  /** Λ(tMs): arrivals expected from 0 to tMs. */
  unitsAt(tMs: number): number {
    const s = this.#segmentAt(tMs);
    if (!s) {
      const last = this.#segments.at(-1);
      return tMs <= 0 || !last ? 0 : last.unitsBefore + unitsIn(last);
    }
    return s.unitsBefore + unitsIn(s, tMs);
  }

  /** Λ⁻¹(units): when that many arrivals are expected; Infinity if not before the end. */
  timeOfUnits(units: number): number {
    if (units <= 0) return 0;
    for (const s of this.#segments) {
      const total = unitsIn(s);
      if (units - s.unitsBefore > total) continue;
      const c = units - s.unitsBefore; // units to go inside this segment
      const span = s.endMs - s.startMs;
      // units(τ) = (r0·τ + (r1 − r0)·τ²/(2·span)) / 1000; solve a·τ² + b·τ = c in its stable form.
      const a = (s.toRate - s.fromRate) / (2 * span * 1000);
      const b = s.fromRate / 1000;
      const root = Math.sqrt(Math.max(0, b * b + 4 * a * c));
      const denominator = b + root;
      if (denominator <= 0) continue;
      return s.startMs + Math.min(span, (2 * c) / denominator);
    }
    return Number.POSITIVE_INFINITY;
  }

  /** The same schedule up to `tMs`, then a constant `ratePerSecond` until the same end (a live change). */
  withConstantFrom(tMs: number, ratePerSecond: number): RateSchedule {
    const end = this.endMs;
    const kept: Segment[] = [];
    for (const s of this.#segments) {
      if (s.startMs >= tMs) break;
      if (s.endMs <= tMs) {
        kept.push(s);
      } else {
        kept.push({ ...s, endMs: tMs, toRate: this.rateAt(tMs) });
      }
    }
    if (end > tMs) {
      kept.push({
        startMs: Math.max(0, tMs),
        endMs: end,
        fromRate: ratePerSecond,
        toRate: ratePerSecond,
        unitsBefore: this.unitsAt(tMs),
      });
    }
    return new RateSchedule(kept);
  }

  #segmentAt(tMs: number): Segment | undefined {
    return this.#segments.find((s) => tMs >= s.startMs && tMs < s.endMs);
  }
}

/** Arrivals expected in a segment from its start to `untilMs` (default: its end). */
function unitsIn(s: Segment, untilMs = s.endMs): number {
  const span = s.endMs - s.startMs;
  const tau = Math.min(span, Math.max(0, untilMs - s.startMs));
  return (s.fromRate * tau + ((s.toRate - s.fromRate) * tau * tau) / (2 * span)) / 1000;
}
