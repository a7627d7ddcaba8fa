import { describe, expect, it } from "vitest";
import { paidSlopePerSecond, type QueueSample, scaledSpec } from "../study/run.js";
import { barChart, escapeXml, lineChart, niceTicks } from "../study/svg.js";
import { processingRatePerSecond, simulateClosedLoop, steadyState } from "../study/theory.js";
import { parseStudyArgs } from "../study.js";

const study = {
  thinkMinSeconds: 0.1,
  thinkMaxSeconds: 0.5,
  servers: 5,
  serviceSeconds: 3,
};

describe("queueing theory for the study's load", () => {
  it("Test 2 saturates the slots: X = c/S = 1.67/s and R = N/X − Z̄ = 11.7 s", () => {
    const s = steadyState({ ...study, users: 20, spawnRate: 10, durationSeconds: 60 });
    expect(s.saturated).toBe(true);
    expect(s.throughputPerSecond).toBeCloseTo(5 / 3, 10);
    expect(s.responseSeconds).toBeCloseTo(11.7, 10);
  });

  it("Test 1 does not: X = N/(S + Z̄) and every answer takes S", () => {
    const s = steadyState({ ...study, users: 5, spawnRate: 1, durationSeconds: 30 });
    expect(s.saturated).toBe(false);
    expect(s.throughputPerSecond).toBeCloseTo(5 / 3.3, 10);
    expect(s.responseSeconds).toBe(3);
  });

  it("the finite-run model reproduces the study's Test 2: 95 requests, ~10.7 s average, ~11.9 s max", () => {
    const run = simulateClosedLoop({ ...study, users: 20, spawnRate: 10, durationSeconds: 60 });
    expect(run.requests).toBeCloseTo(95, 0);
    expect(run.meanSeconds).toBeGreaterThan(10.4);
    expect(run.meanSeconds).toBeLessThan(10.9);
    expect(run.medianSeconds).toBeCloseTo(11.7, 0);
    expect(run.minSeconds).toBeCloseTo(3, 5);
    expect(run.maxSeconds).toBeGreaterThan(11.7);
    expect(run.maxSeconds).toBeLessThan(12);
  });

  it("with no queue the loop runs at the users' pace, N/(Z̄ + R)", () => {
    const run = simulateClosedLoop(
      {
        ...study,
        users: 20,
        spawnRate: 10,
        durationSeconds: 60,
        servers: Number.POSITIVE_INFINITY,
        serviceSeconds: 0.11,
      },
      50,
    );
    // The study's own 110 ms answer explains its 48.27/s (less the 2 s spawn ramp).
    expect(run.throughputPerSecond).toBeGreaterThan(47);
    expect(run.throughputPerSecond).toBeLessThan(49);
  });

  it("one task processes min(concurrency, slots) payments per service time", () => {
    expect(processingRatePerSecond(1, 5, 3)).toBeCloseTo(1 / 3, 10);
    expect(processingRatePerSecond(5, 5, 3)).toBeCloseTo(5 / 3, 10);
    expect(processingRatePerSecond(100, 5, 3)).toBeCloseTo(5 / 3, 10);
  });
});

describe("measuring the processing rate", () => {
  it("reads the slope of a staircase of payments, five at a time, wherever the samples fall", () => {
    const samples: QueueSample[] = [];
    for (let t = 0; t <= 60_000; t += 37) {
      const paid = 5 * Math.floor((t - 1234) / 3000 + 1) * (t >= 1234 ? 1 : 0);
      samples.push({ tMs: t, visible: 0, inFlight: 0, accepted: 0, paid: Math.max(0, paid) });
    }
    expect(paidSlopePerSecond(samples)).toBeGreaterThan((5 / 3) * 0.97);
    expect(paidSlopePerSecond(samples)).toBeLessThan((5 / 3) * 1.03);
  });

  it("is 0 without payments", () => {
    expect(paidSlopePerSecond([{ tMs: 0, visible: 9, inFlight: 0, accepted: 9, paid: 0 }])).toBe(0);
  });

  it("scales the study's Locust run by the time scale", () => {
    expect(scaledSpec({ users: 20, spawnRate: 10, durationSeconds: 60, mode: "sync" }, 0.1)).toMatchObject({
      users: 20,
      spawnRate: 100,
      durationSeconds: 6,
      waitMinMs: 10,
      waitMaxMs: 50,
    });
  });
});

describe("study arguments", () => {
  it("takes --time-scale, or npm's two ways of handing it over", () => {
    expect(parseStudyArgs(["--time-scale", "0.1"], {}).timeScale).toBe(0.1);
    expect(parseStudyArgs([], { timeScale: "0.1" }).timeScale).toBe(0.1);
    expect(parseStudyArgs(["0.1"], { timeScale: "true" }).timeScale).toBe(0.1);
    expect(parseStudyArgs([], {}).timeScale).toBe(1);
    expect(() => parseStudyArgs(["--time-scale", "2"], {})).toThrow(/time-scale/);
    expect(() => parseStudyArgs(["--time-scale", "0"], {})).toThrow(/time-scale/);
  });
});

describe("SVG charts", () => {
  it("picks round ticks", () => {
    expect(niceTicks(0, 3150, 5)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(niceTicks(0, 1.67, 5)).toEqual([0, 0.5, 1, 1.5, 2]);
  });

  it("draws one path per series, escapes text and stays well-formed", () => {
    const svg = lineChart({
      title: "depth <&> rate",
      xLabel: "s",
      yLabel: "messages",
      series: [
        {
          name: "a",
          color: "#000",
          points: [
            [0, 0],
            [10, 5],
          ],
        },
        {
          name: "b",
          color: "#f00",
          dashed: true,
          points: [
            [0, 1],
            [10, 2],
          ],
        },
      ],
    });
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain("depth &lt;&amp;&gt; rate");
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(escapeXml(`"'`)).toBe("&quot;&apos;");
  });

  it("draws a bar per value and marks missing ones", () => {
    const svg = barChart({
      title: "rate",
      yLabel: "orders/s",
      categories: ["1", "5"],
      groups: [
        { name: "theory", color: "#777", values: [0.33, 1.67] },
        { name: "study", color: "#f80", values: [0.29, undefined] },
      ],
    });
    expect(svg.match(/<rect x=/g)).toHaveLength(3);
    expect(svg).toContain(">n/a<");
    expect(svg).toContain(">1.67<");
  });
});
