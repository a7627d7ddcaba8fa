import { describe, expect, it } from "vitest";
import { type ChartLayout, type Ctx, drawChart, nearestIndex, niceMax, type PanelSpec } from "../src/lib/chart";
import { emptyPoint, Timeline } from "../src/lib/timeline";

/** A 2D context that records path calls instead of drawing. */
function recorder() {
  const calls: string[] = [];
  const ctx = {
    beginPath: () => calls.push("begin"),
    moveTo: () => calls.push("move"),
    lineTo: () => calls.push("line"),
    stroke: () => calls.push("stroke"),
    fill: () => calls.push("fill"),
    closePath: () => calls.push("close"),
    fillRect: () => {},
    clearRect: () => {},
    fillText: () => {},
    measureText: (text: string) => ({ width: text.length * 6 }) as TextMetrics,
    setLineDash: () => {},
    save: () => {},
    restore: () => {},
    setTransform: () => {},
    strokeStyle: "",
    fillStyle: "",
    lineWidth: 1,
    font: "",
    textAlign: "left",
    textBaseline: "top",
    globalAlpha: 1,
  } as unknown as Ctx;
  return { ctx, calls };
}

const layout: ChartLayout = {
  width: 900,
  height: 300,
  ratio: 1,
  left: 64,
  right: 12,
  top: 24,
  bottom: 20,
  panelGap: 22,
};
const panel: PanelSpec = {
  id: "q",
  title: "queue",
  format: String,
  series: [{ key: "visible", label: "visible", color: "#fff" }],
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

  it("bounds the work of a frame by the width, not by an hour of history", () => {
    const tl = hour();
    const { ctx } = recorder();
    const vertices = drawChart(ctx, {
      timeline: tl,
      panels: [panel],
      markers: [],
      endMs: tl.lastTime,
      rangeMs: 3600_000,
      layout,
    });
    const plotWidth = layout.width - layout.left - layout.right;
    // Each pixel column emits at most first, max, min, last.
    expect(vertices).toBeLessThanOrEqual(4 * (plotWidth + 1));
    expect(vertices).toBeLessThan(3600);
  });

  it("breaks the line at unknown values and at holes in time", () => {
    const tl = new Timeline(100);
    for (let i = 0; i < 10; i++) tl.push({ ...emptyPoint(i * 1000), visible: 1 });
    tl.push(emptyPoint(10_000)); // unknown
    for (let i = 11; i < 20; i++) tl.push({ ...emptyPoint(i * 1000), visible: 1 });
    for (let i = 40; i < 50; i++) tl.push({ ...emptyPoint(i * 1000), visible: 1 }); // 20 s hole
    const { ctx, calls } = recorder();
    drawChart(ctx, { timeline: tl, panels: [panel], markers: [], endMs: 50_000, rangeMs: 60_000, layout });
    // Three runs of the series: three moveTo on its path (the grid uses fillRect, not paths).
    const seriesPath = calls.slice(calls.lastIndexOf("begin"));
    expect(seriesPath.filter((c) => c === "move")).toHaveLength(3);
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
