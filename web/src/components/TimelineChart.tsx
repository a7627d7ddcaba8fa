"use client";

import "uplot/dist/uPlot.min.css";
import { type KeyboardEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import uPlot from "uplot";
import { useLiveStore } from "../client/live";
import { type ChartView, LAYOUT, nearestIndex, type PanelSpec, panelOptions, THEME, windowData } from "../lib/chart";
import { clock } from "../lib/format";
import type { Marker, MarkerKind } from "../lib/timeline";

const RANGES = [
  { label: "5 min", ms: 5 * 60_000 },
  { label: "15 min", ms: 15 * 60_000 },
  { label: "1 h", ms: 60 * 60_000 },
] as const;

const MIN_WINDOW_MS = 2 * 60_000;

const MARKER_LEGEND: Array<[MarkerKind, string]> = [
  ["burst-start", "burst"],
  ["scale-out", "scale out"],
  ["scale-in", "scale in"],
  ["routing", "routing"],
  ["redrive", "redrive"],
  ["policy", "autoscaling policy"],
  ["purge", "purge"],
  ["sale", "sale window"],
];
const DRAW_MEASURE = "surge:chart-draw";
let measured = 0;

/** Each panel's uPlot height: the plots share what the strip, the time axis and the gaps leave, by weight. */
function panelHeights(panels: PanelSpec[], heightPx: number): number[] {
  const n = panels.length;
  const fixed = LAYOUT.markerStrip + LAYOUT.timeAxis + (n - 1) * (LAYOUT.panelTop + LAYOUT.panelBottom);
  const total = panels.reduce((s, p) => s + (p.weight ?? 1), 0);
  return panels.map((p, i) => {
    const plot = ((heightPx - fixed) * (p.weight ?? 1)) / total;
    return Math.round(
      plot + (i === 0 ? LAYOUT.markerStrip : LAYOUT.panelTop) + (i === n - 1 ? LAYOUT.timeAxis : LAYOUT.panelBottom),
    );
  });
}

/**
 * The live timeline: one uPlot per panel, sharing one time window and one crosshair. It redraws
 * outside React (the live store's tick schedules one animation frame); hover or arrow keys read
 * every value at that second.
 */
export function TimelineChart({
  panels,
  heightPx,
  label,
}: {
  panels: PanelSpec[];
  heightPx: number;
  /** Accessible description of the chart. */
  label: string;
}) {
  const store = useLiveStore();
  const syncKey = useId();
  const wrapRef = useRef<HTMLDivElement>(null);
  const plotsRef = useRef<uPlot[]>([]);
  const frameRef = useRef<number | undefined>(undefined);
  const [rangeMs, setRangeMs] = useState<number>(RANGES[1].ms);
  const [cursorMs, setCursorMs] = useState<number | undefined>();
  const [width, setWidth] = useState(0);

  // Until the history fills the chosen range, the window fits the history (2 min at least), so a
  // console opened a minute ago shows that minute across the chart rather than as a sliver at its edge.
  const view = useCallback((): ChartView => {
    const tl = store.timeline;
    const endMs = Number.isFinite(tl.lastTime) ? tl.lastTime : Date.now();
    const span = tl.length > 1 ? tl.lastTime - tl.timeAt(0) : 0;
    const windowMs = Math.min(rangeMs, Math.max(MIN_WINDOW_MS, span));
    return { startMs: endMs - windowMs, endMs, markers: store.view.markers };
  }, [store, rangeMs]);
  const viewRef = useRef(view);
  viewRef.current = view;

  const draw = useCallback(() => {
    frameRef.current = undefined;
    const plots = plotsRef.current;
    if (plots.length === 0) return;
    const started = performance.now();
    const { xs, columns } = windowData(
      store.timeline,
      panels.flatMap((p) => p.series.map((s) => s.key)),
      view().startMs,
    );
    panels.forEach((panel, i) => {
      const u = plots[i];
      u?.batch(() => u.setData([xs, ...panel.series.map((s) => columns[s.key])]));
    });
    if (wrapRef.current) wrapRef.current.dataset.points = String(store.timeline.length);
    // What each frame costs, as a User Timing measure (bench/console.ts reads it; so can DevTools).
    if (++measured % 1000 === 0) performance.clearMeasures(DRAW_MEASURE);
    performance.measure(DRAW_MEASURE, { start: started });
  }, [store, panels, view]);

  const drawRef = useRef(draw);
  drawRef.current = draw;

  const schedule = useCallback(() => {
    if (frameRef.current === undefined) frameRef.current = window.requestAnimationFrame(draw);
  }, [draw]);

  useEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap) return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      setWidth((prev) => (prev === w ? prev : w));
    });
    observer.observe(wrap);
    return () => observer.disconnect();
  }, []);

  const hasWidth = width > 0;
  const widthRef = useRef(width);
  widthRef.current = width;
  // The plots, built once per panel set; uPlot needs the DOM, so only ever in an effect (never on the server).
  useEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap || !hasWidth) return;
    const onCursor = (u: uPlot) => {
      const left = u.cursor.left ?? -1;
      if (left < 0) return setCursorMs(undefined);
      const i = nearestIndex(store.timeline, u.posToVal(left, "x"));
      setCursorMs(i < 0 ? undefined : store.timeline.timeAt(i));
    };
    const heights = panelHeights(panels, heightPx);
    plotsRef.current = panels.map((panel, i) => {
      const host = wrap.querySelector<HTMLElement>(`[data-panel="${panel.id}"]`) ?? wrap;
      const place = { width: widthRef.current, height: heights[i] ?? 0, first: i === 0, last: i === panels.length - 1 };
      return new uPlot(
        panelOptions(panel, { ...place, syncKey }, () => viewRef.current(), onCursor),
        [[]],
        host,
      );
    });
    drawRef.current();
    return () => {
      for (const u of plotsRef.current) u.destroy();
      plotsRef.current = [];
    };
  }, [store, panels, heightPx, syncKey, hasWidth]);

  useEffect(() => {
    const heights = panelHeights(panels, heightPx);
    plotsRef.current.forEach((u, i) => {
      if (u.width !== width) u.setSize({ width, height: heights[i] ?? 0 });
    });
  }, [width, panels, heightPx]);

  useEffect(() => {
    schedule();
    const unsubscribe = store.subscribe(schedule);
    return () => {
      unsubscribe();
      if (frameRef.current !== undefined) window.cancelAnimationFrame(frameRef.current);
      frameRef.current = undefined;
    };
  }, [store, schedule]);

  /** Moves the crosshair on every panel (uPlot's sync) to a time, or hides it. */
  const moveCursor = (ms: number | undefined) => {
    const u = plotsRef.current[0];
    if (!u) return;
    u.setCursor({ left: ms === undefined ? -10 : u.valToPos(ms, "x"), top: ms === undefined ? -10 : 1 });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const timeline = store.timeline;
    if (timeline.length === 0) return;
    if (e.key === "Escape") return moveCursor(undefined);
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    e.preventDefault();
    const stepPoints = e.shiftKey ? 60 : 1;
    const current = cursorMs !== undefined ? nearestIndex(timeline, cursorMs) : timeline.length - 1;
    const next = Math.min(
      timeline.length - 1,
      Math.max(0, current + (e.key === "ArrowLeft" ? -stepPoints : stepPoints)),
    );
    const ms = timeline.timeAt(next);
    if (ms < view().startMs) return;
    moveCursor(ms);
  };

  const first = plotsRef.current[0];
  const cursorX = cursorMs !== undefined && first ? first.valToPos(cursorMs, "x") + first.over.offsetLeft : 0;
  const index = cursorMs !== undefined ? nearestIndex(store.timeline, cursorMs) : -1;
  const point = index >= 0 ? store.timeline.point(index) : undefined;
  const shown = cursorMs !== undefined ? view() : undefined;
  const nearMarkers: Marker[] =
    cursorMs !== undefined && shown
      ? store.view.markers.filter(
          (m) => Math.abs(m.at - cursorMs) <= Math.max(2000, (shown.endMs - shown.startMs) / 300),
        )
      : [];

  return (
    <div>
      <div className="row" style={{ justifyContent: "space-between", marginBottom: 8 }}>
        <fieldset className="segmented">
          <legend className="sr-only">Time range</legend>
          {RANGES.map((r) => (
            <button key={r.label} type="button" aria-pressed={rangeMs === r.ms} onClick={() => setRangeMs(r.ms)}>
              {r.label}
            </button>
          ))}
        </fieldset>
        <span className="faint small">hover or focus the chart and use ← → (shift: 1 min) to read values</span>
      </div>
      <div
        ref={wrapRef}
        className="chart-wrap"
        style={{ height: heightPx }}
        role="img"
        aria-label={label}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the chart takes focus so the arrow keys can read it
        tabIndex={0}
        onKeyDown={onKeyDown}
        onBlur={() => moveCursor(undefined)}
        data-testid="timeline-canvas"
      >
        {panels.map((p) => (
          <div key={p.id} data-panel={p.id} />
        ))}
        {cursorMs !== undefined && point && (
          <div
            className="chart-tip"
            style={{
              top: 8,
              ...(cursorX > width / 2 ? { right: width - cursorX + 12 } : { left: cursorX + 12 }),
            }}
          >
            <div className="mono" style={{ marginBottom: 4 }}>
              {clock(point.t)}
            </div>
            {panels.flatMap((p) =>
              p.series.map((s) => (
                <div className="row" key={`${p.id}-${s.key}`} data-series={s.key}>
                  <span className="row" style={{ gap: 6 }}>
                    <span className="swatch" style={{ background: s.color }} />
                    {s.label}
                  </span>
                  <span className="num">{Number.isFinite(point[s.key]) ? p.format(point[s.key]) : "—"}</span>
                </div>
              )),
            )}
            {nearMarkers.map((m) => (
              <div key={m.id} className="small" style={{ marginTop: 4 }}>
                <strong>{m.label}</strong> · {m.by}
                {m.detail && <div className="faint">{m.detail}</div>}
              </div>
            ))}
          </div>
        )}
      </div>
      <div className="chart-legend">
        {panels.flatMap((p) =>
          p.series.map((s) => (
            <span key={`${p.id}-${s.key}`}>
              <span className="swatch" style={{ background: s.color }} />
              {s.label}
            </span>
          )),
        )}
        {MARKER_LEGEND.map(([kind, text]) => (
          <span key={kind}>
            <span className="swatch" style={{ background: THEME.markers[kind] }} /> {text}
          </span>
        ))}
      </div>
    </div>
  );
}
