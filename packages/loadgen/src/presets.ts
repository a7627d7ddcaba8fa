import type { BurstMode, BurstStage } from "./spec.js";

/**
 * Named load shapes, for the CLI's `--preset` and the console's form. Each returns a burst body
 * exactly as POST /ops/bursts takes it, so a preset is only a way to write a spec, never a
 * separate code path. The rate shapes follow k6's ramping-arrival-rate: `ratePerSecond` is the
 * starting rate, and each stage moves the rate linearly to its own rate over its duration (a
 * stage of 0 s is a step).
 */
export const BURST_PRESETS = ["ramp", "step", "spike", "study"] as const;
export type BurstPreset = (typeof BURST_PRESETS)[number];

export interface PresetOptions {
  mode: BurstMode;
  /** Peak arrival rate of the rate shapes, orders per second (the study preset ignores it). */
  peakRatePerSecond: number;
  /** Length of the burst, seconds. */
  durationSeconds: number;
}

/**
 * The study's flash-sale test: 20 users, spawned 10 per second (flash-sale-report.txt:10-11),
 * each thinking 100–500 ms between orders (flash-sale-report.txt:42), for 60 s
 * (flash-sale-report.txt:12) unless another duration is given.
 */
export const STUDY_USERS = { users: 20, spawnRate: 10, waitMinMs: 100, waitMaxMs: 500, durationSeconds: 60 } as const;

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The body of a preset burst; `durationSeconds` is split between the stages. */
export function presetBody(preset: BurstPreset, options: PresetOptions): Record<string, unknown> {
  const { mode, durationSeconds: d } = options;
  const peak = options.peakRatePerSecond;
  const stages = (list: Array<[number, number]>): BurstStage[] =>
    list.map(([seconds, rate]) => ({ durationSeconds: round(seconds), ratePerSecond: round(rate) }));
  switch (preset) {
    case "ramp":
      // From nothing to the peak over the whole burst: where does latency start to climb?
      return { mode, ratePerSecond: 0, stages: stages([[d, peak]]) };
    case "step":
      // Four plateaus of a quarter of the run each, at 25, 50, 75 and 100% of the peak.
      return {
        mode,
        ratePerSecond: peak / 4,
        stages: stages([
          [d / 4, peak / 4],
          [0, peak / 2],
          [d / 4, peak / 2],
          [0, (3 * peak) / 4],
          [d / 4, (3 * peak) / 4],
          [0, peak],
          [d / 4, peak],
        ]),
      };
    case "spike": {
      // A tenth of the peak, the peak for a fifth of the run, then back: does the backlog drain?
      const base = peak / 10;
      return {
        mode,
        ratePerSecond: base,
        stages: stages([
          [d * 0.4, base],
          [0, peak],
          [d * 0.2, peak],
          [0, base],
          [d * 0.4, base],
        ]),
      };
    }
    case "study":
      return { mode, ...STUDY_USERS, durationSeconds: d };
  }
}
