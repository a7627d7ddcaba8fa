/**
 * A small SVG line chart for short series (a burst's last minute, a histogram's
 * neighbours): few points, so SVG is simpler than canvas and scales crisply.
 */
export interface SparkSeries {
  label: string;
  color: string;
  values: Array<number | null | undefined>;
  dash?: string;
}

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
  const width = 600;
  const n = Math.max(...series.map((s) => s.values.length), 2);
  let max = 0;
  for (const s of series) for (const v of s.values) if (typeof v === "number" && v > max) max = v;
  if (max === 0) max = 1;
  const x = (i: number) => (i / (n - 1)) * width;
  const y = (v: number) => heightPx - 4 - (v / max) * (heightPx - 14);
  const path = (values: SparkSeries["values"]) => {
    let d = "";
    let pen = false;
    values.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${width} ${heightPx}`}
        preserveAspectRatio="none"
        style={{ width: "100%", height: heightPx, display: "block" }}
        role="img"
        aria-label={label}
      >
        <line x1="0" x2={width} y1={heightPx - 4} y2={heightPx - 4} stroke="#2b3440" />
        {series.map((s) => (
          <path
            key={s.label}
            d={path(s.values)}
            fill="none"
            stroke={s.color}
            strokeWidth="1.6"
            vectorEffect="non-scaling-stroke"
            strokeDasharray={s.dash}
          />
        ))}
      </svg>
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
