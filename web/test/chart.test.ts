import { describe, expect, it } from "vitest";
import {
  durationAxisLabels,
  layoutMarkerLabels,
  nearestIndex,
  niceMax,
  type PanelSpec,
  type PlacedLabel,
  panelOptions,
  windowData,
} from "../src/lib/chart";
import { emptyPoint, type Marker, Timeline } from "../src/lib/timeline";

const panel: PanelSpec = {
  id: "q",
  title: "queue",
  format: String,
  series: [{ key: "visible", label: "visible", color: "#fff" }],
  thresholds: [{ value: 60, color: "#f00", label: "warning" }],
  minMax: 5,
};

function hour(start = 0) {
  const tl = new Timeline(3600);
  for (let i = 0; i < 3600; i++) tl.push({ ...emptyPoint(start + i * 1000), visible: Math.sin(i / 30) * 100 + 100 });
  return tl;
}

describe("chart", () => {
  it("rounds axis maxima to numbers whose half is round too", () => {
    expect(niceMax(2)).toBe(2);
    expect(niceMax(2.1)).toBe(4);
    expect(niceMax(46)).toBe(50);
    expect(niceMax(0)).toBe(1);
    expect(niceMax(Number.NaN)).toBe(1);
  });

  it("hands uPlot only the window's points, plus one to enter from the left edge", () => {
    const tl = hour();
    const all = windowData(tl, ["visible"], tl.timeAt(0));
    expect(all.xs).toHaveLength(3600);
    const fiveMinutes = windowData(tl, ["visible"], tl.lastTime - 300_000);
    expect(fiveMinutes.xs).toHaveLength(302);
    expect(fiveMinutes.xs[0]).toBe(tl.lastTime - 301_000);
    expect(fiveMinutes.columns.visible).toHaveLength(302);
  });

  it("breaks the line at unknown values and at holes in time", () => {
    const tl = new Timeline(100);
    for (let i = 0; i < 10; i++) tl.push({ ...emptyPoint(i * 1000), visible: 1 });
    tl.push(emptyPoint(10_000)); // unknown
    for (let i = 11; i < 20; i++) tl.push({ ...emptyPoint(i * 1000), visible: 1 });
    for (let i = 40; i < 50; i++) tl.push({ ...emptyPoint(i * 1000), visible: 1 }); // 20 s hole
    const { xs, columns } = windowData(tl, ["visible"], 0);
    // Three runs of values, split by the unknown second and by a null just after the hole opens.
    const runs = columns.visible
      .map((v) => (v === null ? " " : "x"))
      .join("")
      .trim()
      .split(/ +/);
    expect(runs.map((r) => r.length)).toEqual([10, 9, 10]);
    expect(xs[columns.visible.indexOf(null, 11)]).toBe(19_001);
    expect(xs.every((t, i) => i === 0 || t > (xs[i - 1] ?? 0))).toBe(true);
  });

  it("scales a panel to a nice maximum, stretched to a nearby threshold, labelled 0, half and max", () => {
    const opts = panelOptions(
      panel,
      { width: 900, height: 100, first: true, last: true, syncKey: "k" },
      () => ({
        startMs: 0,
        endMs: 60_000,
        markers: [],
      }),
      () => {},
    );
    const range = opts.scales?.y?.range as (u: unknown, min: number, max: number) => [number, number];
    const withData = (ys: number[]) => ({ data: [ys.map((_, i) => i * 1000), ys] });
    expect(range(withData([1, 2, 3]), 1, 3)).toEqual([0, 5]); // minMax
    expect(range(withData([10, 46]), 10, 46)).toEqual([0, 100]); // the threshold (60) is near: on the axis
    expect(range(withData([10, 460]), 10, 460)).toEqual([0, 500]);
    const axis = opts.axes?.[1];
    const splits = axis?.splits as (u: unknown) => number[];
    expect(splits({ scales: { y: { max: 60 } } })).toEqual([0, 30, 60]);
  });

  it("finds the nearest point to a time", () => {
    const tl = hour(0);
    expect(nearestIndex(tl, 1400)).toBe(1);
    expect(nearestIndex(tl, 1600)).toBe(2);
    expect(nearestIndex(tl, -50)).toBe(0);
    expect(nearestIndex(tl, 1e12)).toBe(3599);
    expect(nearestIndex(new Timeline(2), 0)).toBe(-1);
  });

  it("labels a duration axis in one unit, never 0 ms beside 20 s", () => {
    expect(durationAxisLabels([0, 10_000, 20_000], 0.001)).toEqual(["0 s", "10 s", "20 s"]);
    expect(durationAxisLabels([0, 250, 500], 0.001)).toEqual(["0 ms", "250 ms", "500 ms"]);
    expect(durationAxisLabels([0, 200, 400], 1)).toEqual(["0 s", "200 s", "400 s"]);
    expect(durationAxisLabels([0, 1000, 2000], 1)).toEqual(["0 min", "16.7 min", "33.3 min"]);
    const latency = panelOptions(
      { ...panel, format: (v) => (v < 1000 ? `${v} ms` : `${v / 1000} s`), durationUnitSeconds: 0.001 },
      { width: 900, height: 100, first: false, last: true, syncKey: "k" },
      () => ({ startMs: 0, endMs: 60_000, markers: [] }),
      () => {},
    );
    const values = latency.axes?.[1]?.values as (u: unknown, splits: number[]) => string[];
    expect(values({}, [0, 10_000, 20_000])).toEqual(["0 s", "10 s", "20 s"]);
  });
});

describe("marker labels", () => {
  const marker = (id: string, label: string, by = "alice"): Marker => ({ id, at: 0, kind: "routing", by, label });
  /** 6 px a character, like an 11 px font. */
  const measure = (text: string) => text.length * 6;
  const bounds = { left: 0, right: 600 };
  const overlaps = (a: PlacedLabel, b: PlacedLabel) =>
    a.row === b.row && a.left < b.left + b.width && b.left < a.left + a.width;

  /** What the issue saw: no label hidden under another, every marker labelled, no line through text. */
  function expectReadable(placed: PlacedLabel[], count: number) {
    expect(placed.flatMap((p) => p.markers)).toHaveLength(count);
    for (const [i, a] of placed.entries()) {
      expect(a.text.length).toBeGreaterThan(0);
      expect(a.left).toBeGreaterThanOrEqual(bounds.left);
      expect(a.left + a.width).toBeLessThanOrEqual(bounds.right);
      for (const b of placed.slice(i + 1)) expect(overlaps(a, b)).toBe(false);
      // A line rises through the rows below its own label: none of those labels may span it.
      for (const b of placed) {
        if (b.row < a.row) expect(a.x < b.left || a.x > b.left + b.width).toBe(true);
      }
    }
  }

  it("stacks a burst start and a scale that happen together instead of hiding one", () => {
    const placed = layoutMarkerLabels(
      [
        { x: 200, marker: marker("b", "burst start: 20 users async", "ops") },
        { x: 230, marker: marker("s", "scale 8 → 6", "autoscaler") },
      ],
      measure,
      bounds,
    );
    expectReadable(placed, 2);
    expect(placed.map((p) => p.text).sort()).toEqual(["burst start: 20 users async · ops", "scale 8 → 6 · autoscaler"]);
    expect(new Set(placed.map((p) => p.row)).size).toBe(2);
  });

  it("puts labels left of their line at the right edge, inside the chart", () => {
    const [placed] = layoutMarkerLabels([{ x: 590, marker: marker("r", "route → lambda") }], measure, bounds);
    expect(placed?.text).toBe("route → lambda · alice");
    expect((placed?.left ?? 0) + (placed?.width ?? 0)).toBeLessThanOrEqual(590);
  });

  it("labels markers a few seconds apart at the right edge in full (newest events live there)", () => {
    const sameSecond = ["burst start: 5/s async (arrival rate)", "route → lambda", "route → workers", "redrive 0"];
    const placed = layoutMarkerLabels(
      [
        ...sameSecond.map((label, i) => ({ x: 560, marker: marker(`s${i}`, label, "operator") })),
        { x: 580, marker: marker("end", "burst completed", "operator") },
      ],
      measure,
      bounds,
    );
    expectReadable(placed, 5);
    expect(placed.map((p) => p.text).sort()).toEqual([
      "burst completed · operator",
      "burst start: 5/s async (arrival rate) · operator +3",
    ]);
  });

  it("shares one label between markers at the same second", () => {
    const placed = layoutMarkerLabels(
      [
        { x: 100, marker: marker("a", "autoscaler on") },
        { x: 102, marker: marker("b", "scale 1 → 4", "autoscaler") },
      ],
      measure,
      bounds,
    );
    expect(placed).toHaveLength(1);
    expect(placed[0]?.text).toBe("autoscaler on · alice +1");
  });

  it("elides or groups when the rows are full, and never leaves a marker unlabelled", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      x: 20 + i * 14,
      marker: marker(`m${i}`, `scale ${i} → ${i + 1}`),
    }));
    const placed = layoutMarkerLabels(many, measure, bounds);
    expectReadable(placed, 40);
    expect(placed.some((p) => p.text.includes("…"))).toBe(true);
  });
});
