import { describe, expect, it } from "vitest";
import { nearestIndex, niceMax, type PanelSpec, panelOptions, windowData } from "../src/lib/chart";
import { emptyPoint, Timeline } from "../src/lib/timeline";

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
});
