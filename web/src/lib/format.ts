/**
 * Numbers an on-call engineer reads at a glance: always with their unit,
 * never more digits than the figure deserves, and "—" (not 0) when unknown,
 * because a missing figure that reads as zero is how incidents get missed.
 */

const UNKNOWN = "—";

const known = (value: number | null | undefined): value is number =>
  typeof value === "number" && Number.isFinite(value);

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 2884 → "2,884". */
export function count(value: number | null | undefined): string {
  return known(value) ? grouped.format(value) : UNKNOWN;
}

/** Significant-ish digits: 0.0123 → "0.012", 1.666 → "1.67", 48.27 → "48.3", 1234.5 → "1,235". */
export function num(value: number | null | undefined, digits = 3): string {
  if (!known(value)) return UNKNOWN;
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 10 ** digits) return grouped.format(value);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return new Intl.NumberFormat("en-US", { maximumFractionDigits: Math.min(decimals, 6) }).format(value);
}

/** Orders (or requests) per second: "48.3/s". */
export function perSecond(value: number | null | undefined): string {
  return known(value) ? `${num(value)}/s` : UNKNOWN;
}

/**
 * A duration given in milliseconds, in the unit that reads best:
 * 110 → "110 ms", 10707 → "10.7 s", 1620000 → "27 min", 5400000 → "1 h 30 min".
 */
export function ms(value: number | null | undefined): string {
  if (!known(value)) return UNKNOWN;
  if (value < 0) return `−${ms(-value)}`;
  if (value < 1) return `${num(value, 2)} ms`;
  if (value < 1000) return `${num(value)} ms`;
  return seconds(value / 1000);
}

/** A duration given in seconds: 0.11 → "110 ms", 42 → "42 s", 1620 → "27 min", 97200 → "27 h". */
export function seconds(value: number | null | undefined): string {
  if (!known(value)) return UNKNOWN;
  if (value < 0) return `−${seconds(-value)}`;
  if (value === 0) return "0 s";
  if (value < 1) return `${num(value * 1000)} ms`;
  if (value < 60) return `${num(value)} s`;
  if (value < 3600) {
    const m = Math.floor(value / 60);
    const s = Math.round(value - m * 60);
    return s === 0 || m >= 10 ? `${Math.round(value / 60)} min` : `${m} min ${s} s`;
  }
  if (value < 86_400) {
    const h = Math.floor(value / 3600);
    const m = Math.round((value - h * 3600) / 60);
    return m === 0 || h >= 10 ? `${Math.round(value / 3600)} h` : `${h} h ${m} min`;
  }
  return `${num(value / 86_400, 2)} d`;
}

/** 0.525 → "52.5%". */
export function percent(ratio: number | null | undefined, digits = 3): string {
  return known(ratio) ? `${num(ratio * 100, digits)}%` : UNKNOWN;
}

/**
 * US dollars, one precision rule across the console: cents from a dollar up ("$18.33"), three
 * significant digits below it ("$0.0142", "$0.00917", "$0.50"), so two amounts side by side are
 * never shown at different precisions.
 */
export function usd(value: number | null | undefined): string {
  if (!known(value)) return UNKNOWN;
  if (value === 0) return "$0";
  const abs = Math.abs(value);
  const decimals = abs >= 1 ? 2 : Math.min(8, Math.max(2, 2 - Math.floor(Math.log10(abs))));
  const digits = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 2,
    maximumFractionDigits: decimals,
  }).format(abs);
  return `${value < 0 ? "−" : ""}$${digits}`;
}

/**
 * Which of two monthly bills is lower and by how much, in words: "Lambda, $79.67 less". Equal when
 * the two read the same at the console's precision.
 */
export function cheaper(
  lambdaUsd: number,
  fargateUsd: number,
): { winner: "Lambda" | "Fargate" | "equal"; text: string } {
  if (!known(lambdaUsd) || !known(fargateUsd)) return { winner: "equal", text: UNKNOWN };
  if (usd(lambdaUsd) === usd(fargateUsd)) return { winner: "equal", text: "equal" };
  const winner = lambdaUsd < fargateUsd ? "Lambda" : "Fargate";
  return { winner, text: `${winner}, ${usd(Math.abs(fargateUsd - lambdaUsd))} less` };
}

/** A ratio between two figures: 30.36 → "30.4×". */
export function times(ratio: number | null | undefined): string {
  return known(ratio) ? `${num(ratio)}×` : UNKNOWN;
}

/** "12:03:04" in the viewer's time zone. */
export function clock(at: string | number | Date | null | undefined): string {
  if (at === null || at === undefined) return UNKNOWN;
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return UNKNOWN;
  return date.toLocaleTimeString("en-GB", { hour12: false });
}

/** "2024-11-29 12:03:04" in the viewer's time zone. */
export function dateTime(at: string | number | Date | null | undefined): string {
  if (at === null || at === undefined) return UNKNOWN;
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return UNKNOWN;
  const day = date.toLocaleDateString("en-CA");
  return `${day} ${clock(date)}`;
}

/** "42 s ago", "3 min ago" relative to `nowMs`. */
export function ago(at: string | number | null | undefined, nowMs: number): string {
  if (at === null || at === undefined) return UNKNOWN;
  const t = typeof at === "number" ? at : Date.parse(at);
  if (!Number.isFinite(t)) return UNKNOWN;
  const s = Math.max(0, (nowMs - t) / 1000);
  if (s < 1) return "just now";
  return `${seconds(Math.round(s))} ago`;
}
