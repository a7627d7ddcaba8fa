"use client";

import Link from "next/link";
import { useLive, useLiveStore } from "../../client/live";
import type { PanelSpec } from "../../lib/chart";
import { drainEstimate, drainText, RATE_NOISE_PER_SECOND } from "../../lib/derive";
import { clock, count, ms, num, perSecond, seconds } from "../../lib/format";
import { QUEUE_AGE_THRESHOLDS, queueAgeSeverity } from "../../lib/grafana";
import { type BurstStats, type OpsSnapshot, pick, section } from "../../lib/ops";
import type { Marker, SeriesKey, Timeline, TimelinePoint } from "../../lib/timeline";
import { TimelineChart } from "../TimelineChart";
import { Empty, PageHead, Tile } from "../ui";
import { Alerts } from "./Alerts";

export const COLORS = {
  accept: "#4da3ff",
  process: "#3fb950",
  visible: "#d29922",
  inFlight: "#a371f7",
  dlq: "#f85149",
  age: "#f0883e",
  p50: "#56d4dd",
  p99: "#db61a2",
  desired: "#8b949e",
  running: "#e6edf3",
} as const;

const rate = (v: number) => `${num(v, 2)}/s`;
const plain = (v: number) => num(v, 2);

/** The Overview's panels: the five things the study taught us to watch, on one time axis. */
const OVERVIEW_PANELS: PanelSpec[] = [
  {
    id: "rates",
    title: "orders/s — accepted vs paid",
    format: rate,
    minMax: 2,
    weight: 1.2,
    series: [
      { key: "acceptPerSecond", label: "accepted/s", color: COLORS.accept },
      { key: "processPerSecond", label: "paid/s", color: COLORS.process },
    ],
  },
  {
    id: "queue",
    title: "queue — messages",
    format: plain,
    minMax: 5,
    weight: 1.2,
    series: [
      { key: "visible", label: "visible", color: COLORS.visible, fill: 0.12 },
      { key: "inFlight", label: "in flight", color: COLORS.inFlight },
      { key: "dlq", label: "DLQ", color: COLORS.dlq },
    ],
  },
  {
    id: "age",
    title: "oldest order age",
    format: (v) => seconds(v),
    durationUnitSeconds: 1,
    minMax: 10,
    series: [{ key: "oldestAgeSeconds", label: "oldest order age", color: COLORS.age }],
    thresholds: [
      { value: QUEUE_AGE_THRESHOLDS.warningSeconds, color: "#d29922", label: "warning 60 s" },
      { value: QUEUE_AGE_THRESHOLDS.criticalSeconds, color: "#f85149", label: "pages 5 min" },
    ],
  },
  {
    id: "latency",
    title: "end-to-end latency (202 → paid)",
    format: (v) => ms(v),
    durationUnitSeconds: 0.001,
    minMax: 4000,
    series: [
      { key: "p50Ms", label: "p50", color: COLORS.p50 },
      { key: "p99Ms", label: "p99", color: COLORS.p99 },
    ],
  },
  {
    id: "tasks",
    title: "worker tasks — desired vs running",
    format: plain,
    minMax: 2,
    weight: 0.8,
    series: [
      { key: "desiredTasks", label: "desired", color: COLORS.desired, step: true, dash: [5, 4] },
      { key: "runningTasks", label: "running", color: COLORS.running, step: true },
    ],
  },
];

/** Mean of the last `n` known values of a series: per-second rates are noisy, the tiles read 5 s. */
function recentMean(timeline: Timeline, key: SeriesKey, n: number): number {
  let sum = 0;
  let k = 0;
  for (let i = timeline.length - 1; i >= 0 && i >= timeline.length - n; i--) {
    const v = timeline.valueAt(key, i);
    if (Number.isFinite(v)) {
      sum += v;
      k++;
    }
  }
  return k === 0 ? Number.NaN : sum / k;
}

/** The figures an operator reads first, each coloured like its line on the timeline. */
function OverviewTiles({
  state,
  latest,
  acceptRate,
  processRate,
}: {
  state: OpsSnapshot | undefined;
  latest: TimelinePoint | undefined;
  acceptRate: number;
  processRate: number;
}) {
  const queue = section(state, "queue");
  const fleet = pick(state, "fleet");
  const latency = pick(state, "latency");
  const ageSeverity = queueAgeSeverity(queue.ok ? queue.value.oldestAgeSeconds : undefined);
  // Every platform's waiting orders (the store's exact count), against the same rates as the tiles.
  const waiting = queue.ok ? (queue.value.backlog ?? queue.value.visible) : undefined;
  const forLambda = queue.ok ? queue.value.byPlatform?.lambda.waiting : undefined;
  const drain = drainText(drainEstimate({ waiting, arrivalPerSecond: acceptRate, processingPerSecond: processRate }));
  const growing = acceptRate - processRate;
  return (
    <div className="tiles" data-live-ready={state ? "true" : undefined}>
      <Tile
        testId="tile-accept"
        label="Accepted"
        value={perSecond(acceptRate)}
        hint="orders/s, 5 s mean"
        color={COLORS.accept}
      />
      <Tile
        testId="tile-process"
        label="Paid"
        value={perSecond(processRate)}
        hint={
          Number.isFinite(growing) && Math.abs(growing) > RATE_NOISE_PER_SECOND
            ? growing > 0
              ? `queue growing ${num(growing, 2)}/s`
              : `queue shrinking ${num(-growing, 2)}/s`
            : "orders/s, 5 s mean"
        }
        color={COLORS.process}
        severity={Number.isFinite(growing) && growing > RATE_NOISE_PER_SECOND ? "warning" : "ok"}
      />
      <Tile
        testId="tile-waiting"
        label="Waiting"
        value={count(waiting)}
        hint={
          queue.ok
            ? forLambda
              ? `${count(forLambda)} for Lambda · SQS ${count(queue.value.visible)}`
              : `orders · SQS visible ${count(queue.value.visible)}`
            : "orders"
        }
        color={COLORS.visible}
      />
      <Tile
        testId="tile-inflight"
        label="In flight"
        value={queue.ok ? count(queue.value.inFlight) : "—"}
        hint="received, not yet deleted"
        color={COLORS.inFlight}
      />
      <Tile
        testId="tile-dlq"
        label="DLQ"
        value={queue.ok ? count(queue.value.dlq) : "—"}
        hint={queue.ok && queue.value.dlq > 0 ? <Link href="/queue">inspect and redrive →</Link> : "dead letters"}
        color={COLORS.dlq}
        severity={queue.ok && queue.value.dlq > 0 ? "critical" : "ok"}
      />
      <Tile
        testId="tile-age"
        label="Oldest order"
        value={queue.ok ? seconds(queue.value.oldestAgeSeconds) : "—"}
        hint={
          ageSeverity === "critical"
            ? "over 5 min: paging"
            : ageSeverity === "warning"
              ? "over 60 s"
              : "waiting, not yet paid"
        }
        color={COLORS.age}
        severity={ageSeverity}
      />
      <Tile
        testId="tile-p50"
        label="Latency p50"
        value={ms(latest?.p50Ms)}
        hint="202 → paid, median"
        color={COLORS.p50}
      />
      <Tile
        testId="tile-p99"
        label="Latency p99"
        value={ms(latest?.p99Ms)}
        hint={
          latency
            ? latency.samples > 0
              ? `202 → paid, last ${latency.windowSeconds} s (${count(latency.samples)})`
              : `no payment in the last ${latency.windowSeconds} s`
            : "not reported by this API"
        }
        color={COLORS.p99}
      />
      <Tile
        testId="tile-tasks"
        label="Tasks"
        value={fleet ? `${fleet.running} / ${fleet.desiredCount}` : "—"}
        hint={
          fleet
            ? `running / desired${fleet.pending ? ` · ${fleet.pending} starting` : ""} · ${fleet.controlledBy}`
            : "fleet not reported"
        }
        color={COLORS.running}
        severity={fleet && fleet.running < fleet.desiredCount && fleet.pending === 0 ? "warning" : "ok"}
      />
      <Tile testId="tile-drain" label="Drain ETA" value={drain.value} hint={drain.hint} severity={drain.severity} />
    </div>
  );
}

function BurstBanner({ burst }: { burst: BurstStats }) {
  return (
    <div className="banner info small" role="status">
      Burst running: {burst.spec.model === "users" ? `${burst.users?.active ?? 0} users` : `${burst.ratePerSecond}/s`}{" "}
      {burst.spec.mode}, {Math.round(burst.elapsedSeconds)} s of {burst.spec.durationSeconds} s,{" "}
      {perSecond(burst.currentRequestsPerSecond)} now — <Link href="/flash-sale">watch on Flash sale →</Link>
    </div>
  );
}

function EventList({ markers }: { markers: Marker[] }) {
  return markers.length === 0 ? (
    <Empty>No bursts, scaling or operator actions in the last hour.</Empty>
  ) : (
    <ol className="events" reversed>
      {[...markers]
        .reverse()
        .slice(0, 30)
        .map((m) => (
          <li key={m.id}>
            <span className="mono faint">{clock(m.at)}</span>
            <span>
              <strong>{m.label}</strong> <span className="muted">by {m.by}</span>
              {m.detail && <div className="faint small">{m.detail}</div>}
            </span>
          </li>
        ))}
    </ol>
  );
}

export function Overview() {
  const store = useLiveStore();
  const { state, markers } = useLive();
  const timeline = store.timeline;
  const latest = timeline.latest();
  const queue = section(state, "queue");
  const fleet = pick(state, "fleet");
  const bursts = pick(state, "bursts");
  const acceptRate = recentMean(timeline, "acceptPerSecond", 5);
  const processRate = recentMean(timeline, "processPerSecond", 5);

  return (
    <>
      <PageHead
        title="Overview"
        sub="accept vs process, the queue, its age, latency and the fleet — live"
        dashboard="overview"
      />

      {!queue.ok && queue.error && (
        <div className="banner warning small" role="status">
          The queue section of the API&apos;s snapshot is failing: {queue.error}
        </div>
      )}

      <OverviewTiles state={state} latest={latest} acceptRate={acceptRate} processRate={processRate} />

      {bursts?.active && <BurstBanner burst={bursts.active} />}

      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title" className="sr-only">
          Live timeline
        </h2>
        <TimelineChart
          panels={OVERVIEW_PANELS}
          heightPx={560}
          label={`Live timeline: accepted ${perSecond(acceptRate)}, paid ${perSecond(processRate)}, ${
            queue.ok ? count(queue.value.backlog ?? queue.value.visible) : "unknown"
          } orders waiting, oldest order ${queue.ok ? seconds(queue.value.oldestAgeSeconds) : "unknown"}, tasks ${
            fleet ? `${fleet.running} of ${fleet.desiredCount}` : "unknown"
          } running.`}
        />
      </section>

      <div className="grid two">
        <section className="panel" id="alerts" aria-labelledby="alerts-title">
          <h2 id="alerts-title">Alerts</h2>
          <Alerts />
        </section>
        <section className="panel" aria-labelledby="events-title">
          <h2 id="events-title">Events on the timeline</h2>
          <EventList markers={markers} />
        </section>
      </div>
    </>
  );
}
