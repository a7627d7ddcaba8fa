/**
 * The live timeline: one point a second in a ring of typed arrays, so appending never allocates
 * and the chart walks plain Float64Arrays. Unknown values are NaN: gaps, never zero.
 */

export const SERIES = [
  /** Orders accepted per second (sync + async). */
  "acceptPerSecond",
  /** Orders paid per second. */
  "processPerSecond",
  /** Messages visible in the orders queue. */
  "visible",
  /** Messages received by a task and not yet deleted. */
  "inFlight",
  /** Messages in the dead-letter queue. */
  "dlq",
  /** Age of the oldest order not yet paid or dead, in seconds. */
  "oldestAgeSeconds",
  /** End-to-end latency (202 → paid) percentiles, in ms. */
  "p50Ms",
  "p99Ms",
  /** Worker tasks asked for, and running. */
  "desiredTasks",
  "runningTasks",
] as const;

export type SeriesKey = (typeof SERIES)[number];

export type TimelinePoint = { t: number } & Record<SeriesKey, number>;

/** Column-oriented wire form: `t` and each series as arrays, `null` for unknown (JSON has no NaN). */
export type TimelineColumns = { t: number[] } & Record<SeriesKey, Array<number | null>>;

/**
 * Bursts and scaling from their own logs; routing, redrive, policy and purge from the audit log, sale
 * windows from the schedule (lib/markers.ts).
 */
export type MarkerKind =
  | "burst-start"
  | "burst-end"
  | "scale-out"
  | "scale-in"
  | "routing"
  | "redrive"
  | "policy"
  | "purge"
  | "sale";

/** Something that happened, drawn as a vertical line across the timeline. */
export interface Marker {
  /** Stable id (the activity's or burst's), so a re-sent marker is not drawn twice. */
  id: string;
  at: number;
  kind: MarkerKind;
  /** Who: an operator's token label, "autoscaler", or whoever started a burst or changed a setting. */
  by: string;
  /** Short: "burst start: 20 users async", "scale 1 → 4". */
  label: string;
  /** Longer, for the tooltip and the event list: the autoscaler's cause, a burst's result. */
  detail?: string;
}

export function emptyPoint(t: number): TimelinePoint {
  const point = { t } as TimelinePoint;
  for (const key of SERIES) point[key] = Number.NaN;
  return point;
}

export class Timeline {
  readonly capacity: number;
  readonly t: Float64Array;
  readonly columns: Record<SeriesKey, Float64Array>;
  /** Index of the oldest point in the ring. */
  #start = 0;
  #length = 0;
  /** Bumped on every change, so a renderer can tell whether to redraw. */
  version = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
    this.capacity = capacity;
    this.t = new Float64Array(capacity);
    this.columns = Object.fromEntries(SERIES.map((k) => [k, new Float64Array(capacity)])) as Record<
      SeriesKey,
      Float64Array
    >;
  }

  get length(): number {
    return this.#length;
  }

  /** Ring slot of the i-th point, oldest first. */
  slot(i: number): number {
    return (this.#start + i) % this.capacity;
  }

  /** Time of the i-th point, oldest first. */
  timeAt(i: number): number {
    return this.t[this.slot(i)] ?? Number.NaN;
  }

  valueAt(key: SeriesKey, i: number): number {
    return this.columns[key][this.slot(i)] ?? Number.NaN;
  }

  get lastTime(): number {
    return this.#length === 0 ? Number.NaN : this.timeAt(this.#length - 1);
  }

  /** Appends a point; one not newer than the last is ignored (a replayed event). */
  push(point: TimelinePoint): boolean {
    if (this.#length > 0 && !(point.t > this.lastTime)) return false;
    let slot: number;
    if (this.#length < this.capacity) {
      slot = (this.#start + this.#length) % this.capacity;
      this.#length++;
    } else {
      slot = this.#start;
      this.#start = (this.#start + 1) % this.capacity;
    }
    this.t[slot] = point.t;
    for (const key of SERIES) this.columns[key][slot] = point[key];
    this.version++;
    return true;
  }

  /** The i-th point, oldest first. */
  point(i: number): TimelinePoint {
    const slot = this.slot(i);
    const point = { t: this.t[slot] ?? Number.NaN } as TimelinePoint;
    for (const key of SERIES) point[key] = this.columns[key][slot] ?? Number.NaN;
    return point;
  }

  latest(): TimelinePoint | undefined {
    return this.#length === 0 ? undefined : this.point(this.#length - 1);
  }

  /** Index of the first point at or after `tMs` (binary search: points are time-ordered). */
  indexAtOrAfter(tMs: number): number {
    let lo = 0;
    let hi = this.#length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeAt(mid) < tMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Points after `sinceMs` (all when absent) in wire form. */
  toColumns(sinceMs?: number): TimelineColumns {
    const from = sinceMs === undefined ? 0 : this.indexAtOrAfter(sinceMs + 1);
    const out = { t: [] as number[] } as TimelineColumns;
    for (const key of SERIES) out[key] = [];
    for (let i = from; i < this.#length; i++) {
      const slot = this.slot(i);
      out.t.push(this.t[slot] ?? 0);
      for (const key of SERIES) {
        const v = this.columns[key][slot] ?? Number.NaN;
        out[key].push(Number.isFinite(v) ? roundForWire(v) : null);
      }
    }
    return out;
  }

  /** Appends every point of a wire-form batch. */
  appendColumns(columns: TimelineColumns): number {
    let added = 0;
    for (let i = 0; i < columns.t.length; i++) {
      const point = { t: columns.t[i] ?? Number.NaN } as TimelinePoint;
      for (const key of SERIES) point[key] = columns[key]?.[i] ?? Number.NaN;
      if (this.push(point)) added++;
    }
    return added;
  }

  clear(): void {
    this.#start = 0;
    this.#length = 0;
    this.version++;
  }
}

/** Three significant decimals are plenty on a chart and keep an hour of history small on the wire. */
function roundForWire(v: number): number {
  return Math.round(v * 1000) / 1000;
}
