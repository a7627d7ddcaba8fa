// uPlot draws, decimates and tracks the cursor; kept here: the ring-to-window slice with gaps, and the markers, thresholds and titles uPlot leaves to its users.
import uPlot from "uplot";
import { num } from "./format";
import type { Marker, MarkerKind, SeriesKey, Timeline } from "./timeline";

interface SeriesSpec {
  key: SeriesKey;
  label: string;
  color: string;
  /** Step line (counts that change in jumps: tasks). */
  step?: boolean;
  dash?: number[];
  /** Fill under the line with this alpha. */
  fill?: number;
}

export interface PanelSpec {
  id: string;
  title: string;
  /** Formats a value with its unit (the tooltip; the axis too unless `durationUnitSeconds` is set). */
  format: (value: number) => string;
  /** The values are durations in this unit (0.001: ms): the axis labels then share one unit, chosen by the axis maximum. */
  durationUnitSeconds?: number;
  series: SeriesSpec[];
  /** Horizontal reference lines (alert thresholds). */
  thresholds?: Array<{ value: number; color: string; label: string }>;
  /** The axis never goes below this maximum (so an idle system's noise does not fill the panel). */
  minMax?: number;
  /** Relative height (default 1). */
  weight?: number;
}

export const THEME = {
  grid: "rgba(255,255,255,0.07)",
  axis: "#6e7b88",
  text: "#9aa7b4",
  fontPx: 11,
  fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
  markers: {
    "burst-start": "#4da3ff",
    "burst-end": "#4da3ff",
    "scale-out": "#3fb950",
    "scale-in": "#d29922",
    routing: "#39c5cf",
    redrive: "#f778ba",
    policy: "#a371f7",
    purge: "#f85149",
    sale: "#e3b341",
  } satisfies Record<MarkerKind, string>,
};

/** Points further apart than this are not joined. */
const GAP_MS = 2500;

/** What the draw hooks read at draw time: the chart redraws without rebuilding its options. */
export interface ChartView {
  startMs: number;
  endMs: number;
  markers: Marker[];
}

/** The window's points in uPlot's column form: null for unknown values and in holes longer than GAP_MS. */
interface WindowData {
  xs: number[];
  columns: Record<SeriesKey, Array<number | null>>;
}

/** "Nice" axis maximum: 1, 2, 4, 5 × 10ⁿ at or above `value`. */
export function niceMax(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  // Half of each candidate is a round number too (the axis labels 0, max/2, max).
  for (const m of [1, 2, 4, 5, 10]) if (m * exp >= value * (1 - 1e-9)) return m * exp;
  return 10 * exp;
}

/** The points from `startMs` on, plus one before so the line enters from the left edge. */
export function windowData(timeline: Timeline, keys: readonly SeriesKey[], startMs: number): WindowData {
  const from = Math.max(0, timeline.indexAtOrAfter(startMs) - 1);
  const xs: number[] = [];
  const columns = Object.fromEntries(keys.map((k) => [k, []])) as unknown as WindowData["columns"];
  let prevT = Number.NaN;
  for (let i = from; i < timeline.length; i++) {
    const slot = timeline.slot(i);
    const t = timeline.t[slot] ?? Number.NaN;
    // A null point in a hole breaks the line there (uPlot joins whatever is adjacent in the arrays).
    if (t - prevT > GAP_MS) {
      xs.push(prevT + 1);
      for (const k of keys) columns[k].push(null);
    }
    xs.push(t);
    for (const k of keys) {
      const v = timeline.columns[k][slot] ?? Number.NaN;
      columns[k].push(Number.isNaN(v) ? null : v);
    }
    prevT = t;
  }
  return { xs, columns };
}

/** A panel's axis maximum over the window: a nice number, at least minMax, stretched to a nearby threshold. */
function panelMax(panel: PanelSpec, data: uPlot.AlignedData): number {
  let max = 0;
  for (let s = 1; s < data.length; s++) for (const v of data[s] ?? []) if (v != null && v > max) max = v;
  for (const t of panel.thresholds ?? []) if (t.value > max && t.value < max * 3) max = t.value;
  return niceMax(Math.max(max, panel.minMax ?? 0));
}

/** The point index nearest to `tMs`, or -1 with no points. */
export function nearestIndex(timeline: Timeline, tMs: number): number {
  if (timeline.length === 0) return -1;
  const i = timeline.indexAtOrAfter(tMs);
  if (i <= 0) return 0;
  if (i >= timeline.length) return timeline.length - 1;
  return tMs - timeline.timeAt(i - 1) <= timeline.timeAt(i) - tMs ? i - 1 : i;
}

const AXIS_UNITS = [
  { unit: "ms", seconds: 0.001, upTo: 1 },
  { unit: "s", seconds: 1, upTo: 1000 },
  { unit: "min", seconds: 60, upTo: 60_000 },
  { unit: "h", seconds: 3600, upTo: Number.POSITIVE_INFINITY },
];

/** Duration axis labels in one unit (never "0 ms" beside "20 s"): the largest whose axis maximum stays readable. */
export function durationAxisLabels(values: readonly number[], unitSeconds: number): string[] {
  const max = Math.max(0, ...values.map((v) => Math.abs(v) * unitSeconds));
  const pick = AXIS_UNITS.find((u) => max <= u.upTo) ?? AXIS_UNITS[AXIS_UNITS.length - 1];
  const { unit, seconds } = pick ?? { unit: "s", seconds: 1 };
  return values.map((v) => `${num((v * unitSeconds) / seconds, 3)} ${unit}`);
}

const font = (px: number) => `${Math.round(px * uPlot.pxRatio)}px ${THEME.fontFamily}`;

function alpha(hex: string, a: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

function timeLabel(ms: number, rangeMs: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return rangeMs <= 10 * 60_000 ? `${hm}:${two(d.getSeconds())}` : hm;
}

/** Rows of marker labels above the first panel, and each row's height: labels stack rather than collide. */
export const MARKER_ROWS = 3;
const MARKER_ROW_PX = 13;

export const LAYOUT = {
  /** Width of the value axis, the same on every panel so their plots line up. */
  axis: 64,
  /** Room above the first panel for the markers' labels. */
  markerStrip: MARKER_ROWS * MARKER_ROW_PX + 5,
  /** Height of the time axis under the last panel. */
  timeAxis: 20,
  /** Space above each other panel, and below each but the last: room for half a value label. */
  panelTop: 10,
  panelBottom: 8,
  /** Right of the plot: half the last time label, so it is never cut. */
  right: 28,
};

/** A marker label as placed: `markers` share it (the first names it, "+N" counts the rest). */
export interface PlacedLabel {
  x: number;
  markers: Marker[];
  text: string;
  left: number;
  width: number;
  /** 0 is the row next to the plot. */
  row: number;
}

/** Markers closer than this share one label. */
const CLUSTER_PX = 6;
/** Between a line and its label, and around a label no other line may cross. */
const PAD_PX = 3;
/** Between two labels in one row. */
const GAP_PX = 8;
const ELLIPSIS = "…";

const markerText = (markers: Marker[]) => {
  const first = markers[0];
  return first ? `${first.label} · ${first.by}` : "";
};
const moreText = (markers: Marker[]) => (markers.length > 1 ? ` +${markers.length - 1}` : "");

/** `text` cut to `width` with an ellipsis ("" when not even the ellipsis fits). */
function elide(text: string, width: number, measure: (text: string) => number): string {
  if (measure(text) <= width) return text;
  let n = text.length;
  while (n > 0 && measure(text.slice(0, n).trimEnd() + ELLIPSIS) > width) n--;
  return n > 0 ? text.slice(0, n).trimEnd() + ELLIPSIS : measure(ELLIPSIS) <= width ? ELLIPSIS : "";
}

/**
 * Where each marker's label goes, in CSS pixels: labels never overlap, no marker line crosses a
 * label (a line rises from the plot to its own label's row, so labels in the rows below it keep
 * clear of it), and nothing leaves [left, right]. A label goes right of its line, or left near the
 * right edge, in the lowest row with room; with none, it is elided to the widest room left, and
 * with no room at all the marker joins its nearest neighbour's label ("+1"). The tooltip and the event
 * list carry every label in full.
 */
export function layoutMarkerLabels(
  points: ReadonlyArray<{ x: number; marker: Marker }>,
  measure: (text: string) => number,
  bounds: { left: number; right: number },
  rows = MARKER_ROWS,
): PlacedLabel[] {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const clusters: Array<{ x: number; markers: Marker[] }> = [];
  for (const p of sorted) {
    const last = clusters[clusters.length - 1];
    if (last && p.x - last.x <= CLUSTER_PX) last.markers.push(p.marker);
    else clusters.push({ x: p.x, markers: [p.marker] });
  }
  const place = (order: ReadonlyArray<{ x: number; markers: Marker[] }>): PlacedLabel[] => {
    const placed: PlacedLabel[] = [];
    // A line at `x` rising to `row` crosses the labels in the rows below it.
    const lineClear = (x: number, row: number) =>
      placed.every((p) => p.row >= row || x < p.left - PAD_PX || x > p.left + p.width + PAD_PX);
    const spanClear = (left: number, width: number, row: number) =>
      left >= bounds.left &&
      left + width <= bounds.right &&
      placed.every((p) =>
        p.row === row
          ? left + width + GAP_PX <= p.left || left >= p.left + p.width + GAP_PX
          : p.row < row || p.x < left - PAD_PX || p.x > left + width + PAD_PX,
      );
    /** The widest span right of `x` in `row` that no label or higher line takes. */
    const roomRight = (x: number, row: number) => {
      let end = bounds.right;
      for (const p of placed) {
        if (p.row === row && p.left + p.width + GAP_PX > x) {
          if (p.left > x) end = Math.min(end, p.left - GAP_PX);
          else return 0;
        }
        if (p.row > row && p.x > x) end = Math.min(end, p.x - PAD_PX);
      }
      return Math.max(0, end - (x + PAD_PX));
    };
    for (const cluster of order) {
      const text = markerText(cluster.markers) + moreText(cluster.markers);
      const width = measure(text);
      let done = false;
      for (let row = 0; row < rows && !done; row++) {
        if (!lineClear(cluster.x, row)) continue;
        for (const left of [cluster.x + PAD_PX, cluster.x - PAD_PX - width]) {
          if (spanClear(left, width, row)) {
            placed.push({ x: cluster.x, markers: [...cluster.markers], text, left, width, row });
            done = true;
            break;
          }
        }
      }
      if (done) continue;
      let best = { row: -1, room: 0 };
      for (let row = 0; row < rows; row++) {
        const room = lineClear(cluster.x, row) ? roomRight(cluster.x, row) : 0;
        if (room > best.room) best = { row, room };
      }
      const more = moreText(cluster.markers);
      const short = best.row < 0 ? "" : elide(markerText(cluster.markers), best.room - measure(more), measure);
      if (short) {
        const shortText = short + more;
        placed.push({
          x: cluster.x,
          markers: [...cluster.markers],
          text: shortText,
          left: cluster.x + PAD_PX,
          width: measure(shortText),
          row: best.row,
        });
        continue;
      }
      const neighbour = placed.reduce<PlacedLabel | undefined>(
        (a, p) => (!a || Math.abs(p.x - cluster.x) < Math.abs(a.x - cluster.x) ? p : a),
        undefined,
      );
      if (!neighbour) {
        // Only a plot narrower than an ellipsis gets here: the line is still drawn, the tooltip names it.
        placed.push({
          x: cluster.x,
          markers: [...cluster.markers],
          text: "",
          left: cluster.x + PAD_PX,
          width: 0,
          row: 0,
        });
        continue;
      }
      neighbour.markers.push(...cluster.markers);
      const suffix = moreText(neighbour.markers);
      neighbour.text = elide(markerText(neighbour.markers), neighbour.width - measure(suffix), measure) + suffix;
      neighbour.width = measure(neighbour.text);
    }
    return placed;
  };
  // Newest first suits the middle (an older label reaching right over a newer line goes a row
  // higher, and the newer line stops below it); oldest first suits the right edge, where labels
  // turn left. The layout that labels more markers in full wins.
  const score = (placed: PlacedLabel[]) =>
    placed.reduce((n, p) => n + 1 + (p.text === markerText(p.markers) + moreText(p.markers) ? 2 : 0), 0);
  const newestFirst = place([...clusters].reverse());
  const oldestFirst = place(clusters);
  return score(oldestFirst) > score(newestFirst) ? oldestFirst : newestFirst;
}

/** Marker lines on every panel; on the first, each rises to its label in the strip above. */
function drawMarkers(u: uPlot, view: ChartView, labels: boolean) {
  const { ctx, bbox } = u;
  const r = uPlot.pxRatio;
  const shown = view.markers.filter((m) => m.at >= view.startMs && m.at <= view.endMs);
  const xOf = (m: Marker) => Math.round(u.valToPos(m.at, "x", true)) + 0.5;
  ctx.save();
  ctx.font = font(THEME.fontPx);
  ctx.textAlign = "left"; // uPlot leaves the context as its last axis set it
  ctx.textBaseline = "top";
  ctx.lineWidth = r;
  const line = (m: Marker, top: number) => {
    const x = xOf(m);
    ctx.strokeStyle = THEME.markers[m.kind];
    ctx.setLineDash((m.kind === "burst-end" ? [2, 3] : [5, 3]).map((d) => d * r));
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
  };
  if (!labels) {
    for (const m of shown) line(m, bbox.top);
    ctx.restore();
    return;
  }
  const placed = layoutMarkerLabels(
    shown.map((marker) => ({ x: xOf(marker) / r, marker })),
    (text) => ctx.measureText(text).width / r,
    { left: 0, right: u.width },
  );
  const rowTop = (row: number) => bbox.top - (row + 1) * MARKER_ROW_PX * r;
  for (const label of placed) {
    for (const m of label.markers) line(m, m === label.markers[0] ? rowTop(label.row) : bbox.top);
    const first = label.markers[0];
    if (!first) continue;
    ctx.fillStyle = THEME.markers[first.kind];
    ctx.fillText(label.text, label.left * r, rowTop(label.row));
  }
  ctx.restore();
}

/** Title, baseline and thresholds: what Grafana draws around a panel, drawn into it. */
function drawPanelFrame(u: uPlot, panel: PanelSpec) {
  const { ctx, bbox } = u;
  const r = uPlot.pxRatio;
  const max = u.scales.y?.max ?? 1;
  ctx.save();
  ctx.font = font(THEME.fontPx);
  ctx.fillStyle = THEME.axis;
  ctx.fillRect(bbox.left, Math.round(bbox.top + bbox.height) - r, bbox.width, r);
  ctx.fillStyle = THEME.text;
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(panel.title, bbox.left + 4 * r, bbox.top + 2 * r);
  for (const threshold of panel.thresholds ?? []) {
    if (threshold.value > max) continue;
    const y = Math.round(u.valToPos(threshold.value, "y", true)) + 0.5;
    ctx.setLineDash([4 * r, 4 * r]);
    ctx.strokeStyle = threshold.color;
    ctx.lineWidth = r;
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    ctx.fillStyle = threshold.color;
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText(threshold.label, bbox.left + bbox.width - 4 * r, y - 2 * r);
  }
  ctx.restore();
}

/**
 * One panel as a uPlot: the panels of a chart share `syncKey` (one crosshair across all), and only
 * the last shows time labels. `view` is read at each draw.
 */
export function panelOptions(
  panel: PanelSpec,
  place: { width: number; height: number; first: boolean; last: boolean; syncKey: string },
  view: () => ChartView,
  onCursor: (u: uPlot) => void,
): uPlot.Options {
  const axisFont = font(THEME.fontPx);
  return {
    width: place.width,
    height: place.height,
    ms: 1,
    padding: [place.first ? LAYOUT.markerStrip : LAYOUT.panelTop, LAYOUT.right, place.last ? 0 : LAYOUT.panelBottom, 0],
    legend: { show: false },
    cursor: {
      sync: { key: place.syncKey },
      y: false,
      points: { show: false },
      drag: { x: false, y: false },
    },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: { time: true, range: () => [view().startMs, view().endMs] },
      y: { range: (u) => [0, panelMax(panel, u.data)] },
    },
    axes: [
      {
        stroke: THEME.text,
        font: axisFont,
        grid: { stroke: THEME.grid, width: 1 },
        ticks: { show: false },
        space: 90,
        gap: 4,
        size: place.last ? LAYOUT.timeAxis : 0,
        values: (_u, splits) => {
          const { startMs, endMs } = view();
          return splits.map((t) => (place.last ? timeLabel(t, endMs - startMs) : ""));
        },
      },
      {
        stroke: THEME.text,
        font: axisFont,
        grid: { stroke: THEME.grid, width: 1 },
        ticks: { show: false },
        size: LAYOUT.axis,
        gap: 6,
        splits: (u) => {
          const max = u.scales.y?.max ?? 1;
          return [0, max / 2, max];
        },
        values: (_u, splits) =>
          panel.durationUnitSeconds
            ? durationAxisLabels(splits, panel.durationUnitSeconds)
            : splits.map((v) => panel.format(v)),
      },
    ],
    series: [
      {},
      ...panel.series.map(
        (s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          points: { show: false },
          ...(s.dash && { dash: s.dash }),
          ...(s.fill && { fill: alpha(s.color, s.fill) }),
          ...(s.step && { paths: uPlot.paths.stepped?.({ align: 1 }) }),
        }),
      ),
    ],
    hooks: {
      draw: [
        (u) => {
          drawPanelFrame(u, panel);
          drawMarkers(u, view(), place.first);
        },
      ],
      setCursor: [onCursor],
    },
  };
}
