// uPlot draws, decimates and tracks the cursor; kept here: the ring-to-window slice with gaps, and the markers, thresholds and titles uPlot leaves to its users.
import uPlot from "uplot";
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
  /** Formats an axis value with its unit. */
  format: (value: number) => string;
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
    control: "#a371f7",
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

export const LAYOUT = {
  /** Width of the value axis, the same on every panel so their plots line up. */
  axis: 64,
  /** Room above the first panel for the markers' labels. */
  markerStrip: 24,
  /** Height of the time axis under the last panel. */
  timeAxis: 20,
  /** Space above each other panel, and below each but the last: room for half a value label. */
  panelTop: 10,
  panelBottom: 8,
  /** Right of the plot: half the last time label, so it is never cut. */
  right: 28,
};

/** Marker lines on every panel; their labels on the first (skipped when they would overlap). */
function drawMarkers(u: uPlot, view: ChartView, labels: boolean) {
  const { ctx, bbox } = u;
  const r = uPlot.pxRatio;
  const top = labels ? bbox.top - 14 * r : bbox.top;
  let lastLabelRight = Number.NEGATIVE_INFINITY;
  ctx.save();
  ctx.font = font(THEME.fontPx);
  ctx.textAlign = "left"; // uPlot leaves the context as its last axis set it
  ctx.textBaseline = "top";
  ctx.lineWidth = r;
  for (const marker of view.markers) {
    if (marker.at < view.startMs || marker.at > view.endMs) continue;
    const x = Math.round(u.valToPos(marker.at, "x", true)) + 0.5;
    const color = THEME.markers[marker.kind];
    ctx.strokeStyle = color;
    ctx.setLineDash((marker.kind === "burst-end" ? [2, 3] : [5, 3]).map((d) => d * r));
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    if (!labels) continue;
    const text = `${marker.label} · ${marker.by}`;
    const w = ctx.measureText(text).width;
    // Right of the line, or left of it near the right edge (the newest events live there).
    const left = x + 3 * r + w <= u.width * r ? x + 3 * r : Math.max(bbox.left, x - 3 * r - w);
    if (left > lastLabelRight + 6 * r) {
      ctx.fillStyle = color;
      ctx.fillText(text, left, top - r);
      lastLabelRight = left + w;
    }
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
        values: (_u, splits) => splits.map((v) => panel.format(v)),
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
