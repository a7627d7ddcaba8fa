"use client";

import { type KeyboardEvent, type PointerEvent, useCallback, useEffect, useRef, useState } from "react";
import { useLiveStore } from "../client/live";
import { type ChartLayout, drawChart, nearestIndex, type PanelSpec } from "../lib/chart";
import { clock } from "../lib/format";
import type { Marker } from "../lib/timeline";

export const RANGES = [
  { label: "5 min", ms: 5 * 60_000 },
  { label: "15 min", ms: 15 * 60_000 },
  { label: "1 h", ms: 60 * 60_000 },
] as const;

const MARGINS = { left: 64, right: 12, top: 24, bottom: 20, panelGap: 22 };
const MIN_WINDOW_MS = 2 * 60_000;
export const DRAW_MEASURE = "surge:chart-draw";
let measured = 0;

/**
 * The live timeline on a canvas. It redraws outside React: the live store's
 * tick schedules one animation frame, which draws straight from the typed
 * arrays. Hover or arrow keys move a crosshair (an element over the canvas, so
 * moving it costs no redraw) with every value at that second.
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
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [rangeMs, setRangeMs] = useState<number>(RANGES[1].ms);
  const [cursor, setCursor] = useState<{ ms: number } | undefined>();
  const [width, setWidth] = useState(0);
  const frameRef = useRef<number | undefined>(undefined);

  const endMs = useCallback(() => {
    const last = store.timeline.lastTime;
    return Number.isFinite(last) ? last : Date.now();
  }, [store]);
  // Until the history fills the chosen range, the window fits the history (2 min at least), so a
  // console opened a minute ago shows that minute across the chart rather than as a sliver at its edge.
  const windowMs = useCallback(() => {
    const tl = store.timeline;
    const span = tl.length > 1 ? tl.lastTime - tl.timeAt(0) : 0;
    return Math.min(rangeMs, Math.max(MIN_WINDOW_MS, span));
  }, [store, rangeMs]);

  const draw = useCallback(() => {
    frameRef.current = undefined;
    const canvas = canvasRef.current;
    if (!canvas || width === 0) return;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(heightPx * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(heightPx * ratio);
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const layout: ChartLayout = { width, height: heightPx, ratio, ...MARGINS };
    const started = performance.now();
    drawChart(ctx, {
      timeline: store.timeline,
      panels,
      markers: store.view.markers,
      endMs: endMs(),
      rangeMs: windowMs(),
      layout,
    });
    canvas.dataset.points = String(store.timeline.length);
    // What each frame costs, as a User Timing measure (bench/console.ts reads it; so can DevTools).
    if (++measured % 1000 === 0) performance.clearMeasures(DRAW_MEASURE);
    performance.measure(DRAW_MEASURE, { start: started });
  }, [store, panels, width, heightPx, windowMs, endMs]);

  const schedule = useCallback(() => {
    if (frameRef.current === undefined) frameRef.current = window.requestAnimationFrame(draw);
  }, [draw]);

  useEffect(() => {
    schedule();
    const unsubscribe = store.subscribe(schedule);
    return () => {
      unsubscribe();
      if (frameRef.current !== undefined) window.cancelAnimationFrame(frameRef.current);
      frameRef.current = undefined;
    };
  }, [store, schedule]);

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

  const toMs = (xPx: number) => {
    const plot = width - MARGINS.left - MARGINS.right;
    const w = windowMs();
    return endMs() - w + ((xPx - MARGINS.left) / plot) * w;
  };
  const toX = (ms: number) => {
    const plot = width - MARGINS.left - MARGINS.right;
    const w = windowMs();
    return MARGINS.left + ((ms - (endMs() - w)) / w) * plot;
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const xPx = e.clientX - rect.left;
    if (xPx < MARGINS.left || xPx > width - MARGINS.right) {
      setCursor(undefined);
      return;
    }
    const i = nearestIndex(store.timeline, toMs(xPx));
    if (i < 0) return;
    const ms = store.timeline.timeAt(i);
    setCursor({ ms });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const timeline = store.timeline;
    if (timeline.length === 0) return;
    if (e.key === "Escape") {
      setCursor(undefined);
      return;
    }
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    e.preventDefault();
    const stepPoints = e.shiftKey ? 60 : 1;
    const current = cursor ? nearestIndex(timeline, cursor.ms) : timeline.length - 1;
    const next = Math.min(
      timeline.length - 1,
      Math.max(0, current + (e.key === "ArrowLeft" ? -stepPoints : stepPoints)),
    );
    const ms = timeline.timeAt(next);
    if (ms < endMs() - windowMs()) return;
    setCursor({ ms });
  };

  const index = cursor ? nearestIndex(store.timeline, cursor.ms) : -1;
  const point = index >= 0 ? store.timeline.point(index) : undefined;
  const nearMarkers: Marker[] = cursor
    ? store.view.markers.filter((m) => Math.abs(m.at - cursor.ms) <= Math.max(2000, windowMs() / 300))
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
      <div ref={wrapRef} className="chart-wrap" style={{ height: heightPx }}>
        <canvas
          ref={canvasRef}
          style={{ height: heightPx }}
          role="img"
          aria-label={label}
          tabIndex={0}
          onPointerMove={onPointerMove}
          onPointerLeave={() => setCursor(undefined)}
          onKeyDown={onKeyDown}
          onBlur={() => setCursor(undefined)}
          data-testid="timeline-canvas"
        />
        {cursor && (
          // The crosshair is an element over the canvas, not drawn on it: moving it redraws nothing.
          <div
            className="chart-cursor"
            style={{ left: toX(cursor.ms), top: MARGINS.top, height: heightPx - MARGINS.top - MARGINS.bottom }}
          />
        )}
        {cursor && point && (
          <div
            className="chart-tip"
            style={{
              top: 8,
              ...(toX(cursor.ms) > width / 2 ? { right: width - toX(cursor.ms) + 12 } : { left: toX(cursor.ms) + 12 }),
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
        <span>
          <span className="swatch" style={{ background: "#4da3ff" }} /> burst
        </span>
        <span>
          <span className="swatch" style={{ background: "#3fb950" }} /> scale out
        </span>
        <span>
          <span className="swatch" style={{ background: "#d29922" }} /> scale in
        </span>
      </div>
    </div>
  );
}
