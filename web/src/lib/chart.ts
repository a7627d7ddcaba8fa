/**
 * The live timeline's drawing, without React: stacked panels sharing one time
 * axis on one canvas, markers across all of them.
 *
 * The cost of a frame is bounded by the canvas width, not by the history: each
 * series is reduced per pixel column to (first, min, max, last) before
 * anything is stroked, so an hour of 1 s points (3,600 per series) costs about
 * what 900 do on a 900 px chart. Unknown values (NaN) and holes in time longer
 * than GAP_MS break the line: a gap on screen is a gap in the data.
 */
import type { Marker, MarkerKind, SeriesKey, Timeline } from "./timeline";

export interface SeriesSpec {
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

export interface ChartLayout {
  width: number;
  height: number;
  /** Device pixels per CSS pixel. */
  ratio: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  panelGap: number;
}

export interface ChartFrame {
  timeline: Timeline;
  panels: PanelSpec[];
  markers: Marker[];
  /** Window end (ms); the window is [end − rangeMs, end]. */
  endMs: number;
  rangeMs: number;
  layout: ChartLayout;
  /** Crosshair time, ms, or undefined. */
  cursorMs?: number;
  theme?: Partial<ChartTheme>;
}

export interface ChartTheme {
  grid: string;
  axis: string;
  text: string;
  background: string;
  font: string;
  markers: Record<MarkerKind, string>;
}

export const DEFAULT_THEME: ChartTheme = {
  grid: "rgba(255,255,255,0.07)",
  axis: "#6e7b88",
  text: "#9aa7b4",
  background: "#151b23",
  font: "11px system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
  markers: {
    "burst-start": "#4da3ff",
    "burst-end": "#4da3ff",
    "scale-out": "#3fb950",
    "scale-in": "#d29922",
    control: "#a371f7",
  },
};

/** Points further apart than this are not joined. */
export const GAP_MS = 2500;

/** Minimal 2D context surface the chart uses (a real CanvasRenderingContext2D satisfies it). */
export type Ctx = Pick<
  CanvasRenderingContext2D,
  | "beginPath"
  | "moveTo"
  | "lineTo"
  | "stroke"
  | "fill"
  | "closePath"
  | "fillRect"
  | "clearRect"
  | "fillText"
  | "measureText"
  | "setLineDash"
  | "save"
  | "restore"
  | "setTransform"
> & {
  strokeStyle: string | CanvasGradient | CanvasPattern;
  fillStyle: string | CanvasGradient | CanvasPattern;
  lineWidth: number;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  globalAlpha: number;
};

export interface PanelBox {
  panel: PanelSpec;
  top: number;
  height: number;
  max: number;
}

/** "Nice" axis maximum: 1, 2, 4, 5 × 10ⁿ at or above `value`. */
export function niceMax(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  // Half of each candidate is a round number too (the axis labels 0, max/2, max).
  for (const m of [1, 2, 4, 5, 10]) if (m * exp >= value * (1 - 1e-9)) return m * exp;
  return 10 * exp;
}

/** Panel boxes for a layout (shared with hit-testing). */
export function panelBoxes(panels: PanelSpec[], layout: ChartLayout): Array<Omit<PanelBox, "max">> {
  const usable = layout.height - layout.top - layout.bottom - layout.panelGap * (panels.length - 1);
  const total = panels.reduce((s, p) => s + (p.weight ?? 1), 0);
  let y = layout.top;
  return panels.map((panel) => {
    const height = (usable * (panel.weight ?? 1)) / total;
    const box = { panel, top: y, height };
    y += height + layout.panelGap;
    return box;
  });
}

/** Largest value of a panel's series within [fromIdx, toIdx). */
function visibleMax(timeline: Timeline, panel: PanelSpec, fromIdx: number, toIdx: number): number {
  let max = 0;
  for (const s of panel.series) {
    const column = timeline.columns[s.key];
    for (let i = fromIdx; i < toIdx; i++) {
      const v = column[timeline.slot(i)] ?? Number.NaN;
      if (v > max) max = v;
    }
  }
  for (const t of panel.thresholds ?? []) if (t.value > max && t.value < max * 3) max = t.value;
  return niceMax(Math.max(max, panel.minMax ?? 0));
}

/**
 * Draws one series, reduced per pixel column. Returns the number of path
 * vertices emitted (the benchmark's measure of work bounded by width).
 */
function drawSeries(
  ctx: Ctx,
  timeline: Timeline,
  spec: SeriesSpec,
  fromIdx: number,
  toIdx: number,
  x: (t: number) => number,
  y: (v: number) => number,
  baseY: number,
): number {
  const column = timeline.columns[spec.key];
  let vertices = 0;
  let open = false;
  let col = Number.NaN;
  let first = 0;
  let min = 0;
  let max = 0;
  let last = 0;
  let lastX = 0;
  let prevT = Number.NaN;
  let prevY = 0;
  let runStartX = 0;

  ctx.beginPath();
  const flush = () => {
    if (Number.isNaN(col)) return;
    const px = col;
    if (!open) {
      ctx.moveTo(px, y(first));
      runStartX = px;
      open = true;
      vertices++;
    } else if (spec.step) {
      ctx.lineTo(px, prevY);
      ctx.lineTo(px, y(first));
      vertices += 2;
    } else {
      ctx.lineTo(px, y(first));
      vertices++;
    }
    if (max !== min) {
      ctx.lineTo(px, y(max));
      ctx.lineTo(px, y(min));
      vertices += 2;
    }
    ctx.lineTo(px, y(last));
    vertices++;
    prevY = y(last);
    lastX = px;
  };
  const closeRun = () => {
    if (open && spec.fill) {
      // Fill is drawn per run so that gaps stay empty.
      ctx.lineTo(lastX, baseY);
      ctx.lineTo(runStartX, baseY);
      ctx.closePath();
    }
    open = false;
  };

  for (let i = fromIdx; i < toIdx; i++) {
    const slot = timeline.slot(i);
    const t = timeline.t[slot] ?? Number.NaN;
    const v = column[slot] ?? Number.NaN;
    if (Number.isNaN(v) || (!Number.isNaN(prevT) && t - prevT > GAP_MS)) {
      flush();
      col = Number.NaN;
      closeRun();
      if (Number.isNaN(v)) {
        prevT = Number.NaN;
        continue;
      }
    }
    prevT = t;
    const px = Math.round(x(t));
    if (px !== col) {
      flush();
      col = px;
      first = v;
      min = v;
      max = v;
    } else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    last = v;
  }
  flush();
  closeRun();

  ctx.setLineDash(spec.dash ?? []);
  ctx.strokeStyle = spec.color;
  ctx.lineWidth = 1.5;
  if (spec.fill) {
    ctx.globalAlpha = spec.fill;
    ctx.fillStyle = spec.color;
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  ctx.stroke();
  ctx.setLineDash([]);
  return vertices;
}

function timeLabel(ms: number, rangeMs: number): string {
  const d = new Date(ms);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  const ss = String(d.getSeconds()).padStart(2, "0");
  return rangeMs <= 10 * 60_000 ? `${hh}:${mm}:${ss}` : `${hh}:${mm}`;
}

function tickStepMs(rangeMs: number, widthPx: number): number {
  const wanted = rangeMs / Math.max(2, Math.floor(widthPx / 110));
  for (const s of [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((x) => x * 1000)) if (s >= wanted) return s;
  return 3600_000;
}

/** Draws a whole frame. Returns the vertices stroked (for the benchmark). */
export function drawChart(ctx: Ctx, frame: ChartFrame): number {
  const theme = { ...DEFAULT_THEME, ...frame.theme };
  const { layout, timeline, endMs, rangeMs } = frame;
  const startMs = endMs - rangeMs;
  const plotWidth = layout.width - layout.left - layout.right;
  const x = (t: number) => layout.left + ((t - startMs) / rangeMs) * plotWidth;

  ctx.setTransform(layout.ratio, 0, 0, layout.ratio, 0, 0);
  ctx.clearRect(0, 0, layout.width, layout.height);
  ctx.font = theme.font;

  // One sample before the window so the line enters from the left edge.
  const fromIdx = Math.max(0, timeline.indexAtOrAfter(startMs) - 1);
  const toIdx = timeline.length;
  const boxes = panelBoxes(frame.panels, layout).map((b) => ({
    ...b,
    max: visibleMax(timeline, b.panel, fromIdx, toIdx),
  }));
  let vertices = 0;

  // Time grid and labels.
  const step = tickStepMs(rangeMs, plotWidth);
  ctx.fillStyle = theme.text;
  ctx.textBaseline = "top";
  ctx.textAlign = "center";
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) {
    const px = Math.round(x(t)) + 0.5;
    ctx.fillStyle = theme.grid;
    ctx.fillRect(px, layout.top, 1, layout.height - layout.top - layout.bottom);
    ctx.fillStyle = theme.text;
    ctx.fillText(timeLabel(t, rangeMs), px, layout.height - layout.bottom + 4);
  }

  for (const box of boxes) {
    const { panel, top, height, max } = box;
    const bottom = top + height;
    const y = (v: number) => bottom - (Math.max(0, v) / max) * height;
    // Panel frame: baseline, half and top grid lines with values.
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const f of [0, 0.5, 1]) {
      const gy = Math.round(bottom - f * height) + 0.5;
      ctx.fillStyle = f === 0 ? theme.axis : theme.grid;
      ctx.fillRect(layout.left, gy, plotWidth, 1);
      ctx.fillStyle = theme.text;
      ctx.fillText(panel.format(max * f), layout.left - 6, gy);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillStyle = theme.text;
    ctx.fillText(panel.title, layout.left + 4, top + 2);
    for (const threshold of panel.thresholds ?? []) {
      if (threshold.value > max) continue;
      const ty = Math.round(y(threshold.value)) + 0.5;
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = threshold.color;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(layout.left, ty);
      ctx.lineTo(layout.left + plotWidth, ty);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = threshold.color;
      ctx.textAlign = "right";
      ctx.textBaseline = "bottom";
      ctx.fillText(threshold.label, layout.left + plotWidth - 4, ty - 2);
    }
    for (const spec of panel.series) vertices += drawSeries(ctx, timeline, spec, fromIdx, toIdx, x, y, bottom);
  }

  // Markers: a line across every panel, a flag with the label at the top (skipped when it would overlap).
  const plotTop = layout.top;
  const plotBottom = layout.height - layout.bottom;
  let lastLabelRight = Number.NEGATIVE_INFINITY;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  for (const marker of frame.markers) {
    if (marker.at < startMs || marker.at > endMs) continue;
    const px = Math.round(x(marker.at)) + 0.5;
    const color = theme.markers[marker.kind];
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    ctx.setLineDash(marker.kind === "burst-end" ? [2, 3] : [5, 3]);
    ctx.beginPath();
    ctx.moveTo(px, plotTop - 14);
    ctx.lineTo(px, plotBottom);
    ctx.stroke();
    ctx.setLineDash([]);
    const text = `${marker.label} · ${marker.by}`;
    const w = ctx.measureText(text).width;
    // Right of the line, or left of it near the right edge (the newest events live there).
    const left = px + 3 + w <= layout.width ? px + 3 : Math.max(layout.left, px - 3 - w);
    if (left > lastLabelRight + 6) {
      ctx.fillStyle = color;
      ctx.fillText(text, left, plotTop - 15);
      lastLabelRight = left + w;
    }
  }

  if (frame.cursorMs !== undefined && frame.cursorMs >= startMs && frame.cursorMs <= endMs) {
    const px = Math.round(x(frame.cursorMs)) + 0.5;
    ctx.strokeStyle = theme.axis;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(px, plotTop);
    ctx.lineTo(px, plotBottom);
    ctx.stroke();
  }
  return vertices;
}

/** The point index nearest to `tMs`, or -1 with no points. */
export function nearestIndex(timeline: Timeline, tMs: number): number {
  if (timeline.length === 0) return -1;
  const i = timeline.indexAtOrAfter(tMs);
  if (i <= 0) return 0;
  if (i >= timeline.length) return timeline.length - 1;
  return tMs - timeline.timeAt(i - 1) <= timeline.timeAt(i) - tMs ? i - 1 : i;
}
