"use client";

import "uplot/dist/uPlot.min.css";
import { useEffect, useRef } from "react";
import uPlot from "uplot";

interface SparkSeries {
  label: string;
  color: string;
  values: Array<number | null | undefined>;
}

/** A small line chart for short series (a burst's last minute): no axes, the maximum in the caption. */
export function Sparkline({
  series,
  heightPx = 90,
  format,
  label,
}: {
  series: SparkSeries[];
  heightPx?: number;
  format: (v: number) => string;
  label: string;
}) {
  const hostRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | undefined>(undefined);
  let max = 0;
  for (const s of series) for (const v of s.values) if (typeof v === "number" && v > max) max = v;
  if (max === 0) max = 1;
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const data: uPlot.AlignedData = [
    Array.from({ length: n }, (_, i) => i),
    // uPlot wants columns of one length: a shorter series ends in nulls.
    ...series.map((s) =>
      Array.from({ length: n }, (_, i) => {
        const v = s.values[i];
        return typeof v === "number" && Number.isFinite(v) ? v : null;
      }),
    ),
  ];
  const dataRef = useRef(data);
  dataRef.current = data;
  const maxRef = useRef(max);
  maxRef.current = max;
  const seriesRef = useRef(series);
  seriesRef.current = series;
  const shape = series.map((s) => `${s.label}:${s.color}`).join("|");

  // uPlot needs the DOM: built in an effect, rebuilt only when the series themselves change.
  useEffect(() => {
    const host = hostRef.current;
    if (!host || shape === "") return;
    const u = new uPlot(
      {
        width: Math.max(1, host.clientWidth),
        height: heightPx,
        padding: [10, 0, 4, 0],
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: { x: { time: false }, y: { range: () => [0, maxRef.current] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, ...seriesRef.current.map((s) => ({ stroke: s.color, width: 1.6, points: { show: false } }))],
        hooks: {
          // The baseline.
          drawClear: [
            (p) => {
              const y = Math.round(p.bbox.top + p.bbox.height) + 0.5;
              p.ctx.fillStyle = "#2b3440";
              p.ctx.fillRect(0, y, p.width * uPlot.pxRatio, uPlot.pxRatio);
            },
          ],
        },
      },
      dataRef.current,
      host,
    );
    plotRef.current = u;
    const observer = new ResizeObserver(() => u.setSize({ width: Math.max(1, host.clientWidth), height: heightPx }));
    observer.observe(host);
    return () => {
      observer.disconnect();
      u.destroy();
      plotRef.current = undefined;
    };
  }, [shape, heightPx]);

  useEffect(() => {
    plotRef.current?.setData(data);
  });

  return (
    <figure style={{ margin: 0 }}>
      <div ref={hostRef} style={{ height: heightPx, overflow: "hidden" }} role="img" aria-label={label} />
      <figcaption className="chart-legend">
        {series.map((s) => (
          <span key={s.label}>
            <span className="swatch" style={{ background: s.color }} />
            {s.label}
          </span>
        ))}
        <span className="faint">max {format(max)}</span>
      </figcaption>
    </figure>
  );
}
