/**
 * Two small chart types, written as plain SVG so the report's figures need no
 * plotting library and render anywhere Markdown does (GitHub shows SVG images).
 */

interface LineSeries {
  name: string;
  color: string;
  /** [x, y] points, x ascending. */
  points: ReadonlyArray<readonly [number, number]>;
  dashed?: boolean;
}

interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ReadonlyArray<LineSeries>;
  /** Legend entries per row, drawn in the plot's top-left corner. Default 1. */
  legendColumns?: number;
  width?: number;
  height?: number;
}

interface BarGroup {
  name: string;
  color: string;
  /** One value per category; undefined draws no bar (and "n/a" above its slot). */
  values: ReadonlyArray<number | undefined>;
}

interface BarChart {
  title: string;
  yLabel: string;
  categories: ReadonlyArray<string>;
  groups: ReadonlyArray<BarGroup>;
  /** Printed above each bar. Default: two decimals. */
  format?: (value: number) => string;
  width?: number;
  height?: number;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const MARGIN = { top: 48, right: 24, bottom: 64, left: 72 };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`);
}

/** Tick values from 0 (or min) to at least `max`, at a 1/2/5 × 10^n step, about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min, min + 1];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickLabel(value: number): string {
  if (Math.abs(value) >= 1000) return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
  return Number(value.toPrecision(6)).toString();
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="600" ${FONT} fill="#222">${escapeXml(title)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

function legend(
  items: ReadonlyArray<{ name: string; color: string; dashed?: boolean }>,
  x: number,
  y: number,
  columns = 1,
  columnWidth = 230,
) {
  const rows = Math.ceil(items.length / columns);
  return items.map((item, i) => {
    // Filled column by column, so a chart's measured and theory entries can sit side by side.
    const lx = x + Math.floor(i / rows) * columnWidth;
    const ly = y + (i % rows) * 18;
    const dash = item.dashed ? ' stroke-dasharray="6 4"' : "";
    return (
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${item.color}" stroke-width="2.5"${dash}/>` +
      `<text x="${lx + 28}" y="${ly + 4}" font-size="12" ${FONT} fill="#333">${escapeXml(item.name)}</text>`
    );
  });
}

/** A line chart with a 0-based y axis, grid, axis labels and a legend in the top right. */
export function lineChart(chart: LineChart): string {
  const width = chart.width ?? 860;
  const height = chart.height ?? 440;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]));
  // The x axis ends where the data does (ticks past it are dropped); the y axis at a round tick above it.
  const xMax = Math.max(1, ...xs);
  const xTicks = niceTicks(Math.min(0, ...xs), xMax, 8).filter((t) => t <= xMax * 1.0001);
  const yTicks = niceTicks(0, Math.max(1, ...ys) * 1.25, 5);
  const [x0, x1] = [xTicks[0] as number, xMax];
  const y1 = yTicks.at(-1) as number;
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - (y / y1) * plotH;
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(
      `<line x1="${MARGIN.left}" y1="${sy(t).toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" ${FONT} fill="#555">${tickLabel(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    body.push(
      `<line x1="${sx(t).toFixed(1)}" y1="${MARGIN.top + plotH}" x2="${sx(t).toFixed(1)}" y2="${MARGIN.top + plotH + 5}" stroke="#555"/>`,
      `<text x="${sx(t).toFixed(1)}" y="${MARGIN.top + plotH + 19}" text-anchor="middle" font-size="11" ${FONT} fill="#555">${tickLabel(t)}</text>`,
    );
  }
  body.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#555"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#555"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 16}" text-anchor="middle" font-size="12" ${FONT} fill="#333">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT} fill="#333">${escapeXml(chart.yLabel)}</text>`,
  );
  for (const s of chart.series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i === 0 ? "M" : "L"}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join(" ");
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    body.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
  }
  body.push(...legend(chart.series, MARGIN.left + 14, MARGIN.top + 12, chart.legendColumns ?? 1));
  return frame(width, height, chart.title, body);
}

/** Grouped vertical bars, one group per series, values printed above each bar. */
export function barChart(chart: BarChart): string {
  const width = chart.width ?? 860;
  const height = chart.height ?? 440;
  const format = chart.format ?? ((v: number) => v.toFixed(2));
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const values = chart.groups.flatMap((g) => g.values.filter((v): v is number => v !== undefined));
  const yTicks = niceTicks(0, Math.max(0.1, ...values) * 1.12, 5);
  const y1 = yTicks.at(-1) as number;
  const sy = (y: number) => MARGIN.top + plotH - (y / y1) * plotH;
  const slot = plotW / chart.categories.length;
  const barW = Math.min(48, (slot * 0.8) / chart.groups.length);
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(
      `<line x1="${MARGIN.left}" y1="${sy(t).toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" ${FONT} fill="#555">${tickLabel(t)}</text>`,
    );
  }
  chart.categories.forEach((category, c) => {
    const groupX = MARGIN.left + c * slot + (slot - barW * chart.groups.length) / 2;
    chart.groups.forEach((g, gi) => {
      const x = groupX + gi * barW;
      const v = g.values[c];
      if (v === undefined) {
        body.push(
          `<text x="${(x + barW / 2).toFixed(1)}" y="${MARGIN.top + plotH - 6}" text-anchor="middle" font-size="10" ${FONT} fill="#888">n/a</text>`,
        );
        return;
      }
      const top = sy(v);
      body.push(
        `<rect x="${(x + 2).toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${(MARGIN.top + plotH - top).toFixed(1)}" fill="${g.color}"/>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(top - 5).toFixed(1)}" text-anchor="middle" font-size="10" ${FONT} fill="#333">${escapeXml(format(v))}</text>`,
      );
    });
    body.push(
      `<text x="${(MARGIN.left + c * slot + slot / 2).toFixed(1)}" y="${MARGIN.top + plotH + 19}" text-anchor="middle" font-size="12" ${FONT} fill="#333">${escapeXml(category)}</text>`,
    );
  });
  body.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#555"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#555"/>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT} fill="#333">${escapeXml(chart.yLabel)}</text>`,
  );
  body.push(...legend(chart.groups, MARGIN.left + 12, MARGIN.top + 12));
  return frame(width, height, chart.title, body);
}
