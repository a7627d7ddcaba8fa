/**
 * Equal-width bins for a small set of durations (init durations of recent
 * cold starts), with edges on round numbers so the axis reads cleanly.
 */
interface Bin {
  from: number;
  to: number;
  count: number;
}

const STEPS = [1, 2, 5];

/** A round bin width giving at most `maxBins` bins over [min, max]. */
function binWidth(min: number, max: number, maxBins: number): number {
  const span = Math.max(max - min, 1e-9);
  const raw = span / Math.max(1, maxBins);
  const exp = 10 ** Math.floor(Math.log10(raw));
  for (const s of STEPS) if (s * exp >= raw) return s * exp;
  return 10 * exp;
}

export function histogram(values: ReadonlyArray<number>, maxBins = 12): Bin[] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [];
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const width = binWidth(min, max, maxBins);
  const start = Math.floor(min / width) * width;
  const n = Math.max(1, Math.floor((max - start) / width) + 1);
  const bins: Bin[] = Array.from({ length: n }, (_, i) => ({
    from: start + i * width,
    to: start + (i + 1) * width,
    count: 0,
  }));
  for (const v of finite) {
    const i = Math.min(n - 1, Math.floor((v - start) / width));
    const bin = bins[i];
    if (bin) bin.count++;
  }
  return bins;
}
