/**
 * The synchronous path under open-loop demand (issue 17, part 4): what the study's "~52% lost"
 * looks like when it is measured rather than estimated. Arrivals come at a fixed rate whatever the
 * answers do (k6's arrival rate); each customer gives up after a client timeout. This module holds
 * the FIFO model of that experiment and renders its report; `bench/study-sync-demand.ts` runs it.
 */
import { STUDY_PAYMENT } from "./figures.js";

/** One demand level the study discusses, with what the study says about it. */
interface DemandLevel {
  ratePerSecond: number;
  /** How the study names this rate, with its line. */
  studyRate: string;
  /** What the study says happens to the orders at this rate, with its line. */
  studyOutcome: string;
}

export const SYNC_DEMAND_LEVELS: readonly DemandLevel[] = [
  {
    ratePerSecond: 3.5,
    studyRate: '"~3-4 orders/second (based on 20 users)" (flash-sale-report.txt:97, :277)',
    studyOutcome:
      'estimated, not measured: "~200 orders attempted", 95 completed, "Effective failure rate: 52.5%" ' +
      "(flash-sale-report.txt:155-158, :160-164); with production timeouts 70–80% (flash-sale-report.txt:171)",
  },
  {
    ratePerSecond: 20,
    studyRate: '"Hypothetical 20 orders/second" (flash-sale-report.txt:281-282)',
    studyOutcome: '"Lost orders percentage: 18.33 / 20 = 91.7% FAILURE RATE!" (flash-sale-report.txt:285)',
  },
  {
    ratePerSecond: 60,
    studyRate: '"Flash sale demand: 60 orders/second" (flash-sale-report.txt:146)',
    studyOutcome:
      '"DEFICIT: 3500 orders/minute CANNOT be processed!" (flash-sale-report.txt:150), 97.2% of 3,600 a minute',
  },
];

/** What happened to the arrivals of one run (measured) or what the FIFO model says happens (theory). */
export interface DemandOutcome {
  /** Orders sent (arrivals). */
  arrivals: number;
  /** Answered 2xx within the client timeout. */
  answered: number;
  /** Orders whose customer waited more than 5 s: answered late, gave up, or still waiting at the end. */
  waitedPast5s: number;
  /** Waited the whole client timeout and gave up (the customer abandons). */
  timedOut: number;
  /** Answered with an error status or a connection error: the API refused them. */
  refused: number;
  /** Still waiting, under the timeout, when the run's time was up (cut off, as Locust does). */
  cutOff: number;
  /** Arrivals not sent because the load generator's in-flight cap was reached. */
  dropped: number;
  /** Waits of the answered orders, ms. */
  p50Ms: number;
  maxMs: number;
}

interface ModelInput {
  ratePerSecond: number;
  durationSeconds: number;
  timeoutMs: number;
  slots?: number;
  paymentMs?: number;
}

/**
 * The FIFO model: arrival k at k ÷ rate takes the first free of `slots` payment slots, in order,
 * and holds it for one payment. The server keeps paying an order whose customer has left (the
 * HTTP handler does not watch the socket, nor did the study's), so abandoned orders still take
 * slots. The customer waits until the answer, the timeout or the end of the run, whichever is first.
 */
export function syncDemandModel(input: ModelInput): DemandOutcome {
  const slots = input.slots ?? STUDY_PAYMENT.slots;
  const paymentMs = input.paymentMs ?? STUDY_PAYMENT.durationMs;
  const endMs = input.durationSeconds * 1000;
  const free = Array.from({ length: slots }, () => 0);
  const waits: number[] = [];
  const out: DemandOutcome = {
    arrivals: 0,
    answered: 0,
    waitedPast5s: 0,
    timedOut: 0,
    refused: 0,
    cutOff: 0,
    dropped: 0,
    p50Ms: Number.NaN,
    maxMs: Number.NaN,
  };
  for (let k = 0; ; k++) {
    const arrival = (k * 1000) / input.ratePerSecond;
    if (arrival >= endMs) break;
    out.arrivals++;
    let slot = 0;
    for (let i = 1; i < slots; i++) if ((free[i] ?? 0) < (free[slot] ?? 0)) slot = i;
    const start = Math.max(arrival, free[slot] ?? 0);
    const done = start + paymentMs;
    free[slot] = done;
    const wait = done - arrival;
    const felt = Math.min(wait, input.timeoutMs, endMs - arrival);
    if (felt > 5000) out.waitedPast5s++;
    if (wait > input.timeoutMs && arrival + input.timeoutMs <= endMs) out.timedOut++;
    else if (done > endMs) out.cutOff++;
    else {
      out.answered++;
      waits.push(wait);
    }
  }
  if (waits.length > 0) {
    waits.sort((a, b) => a - b);
    out.p50Ms = waits[Math.ceil(waits.length / 2) - 1] ?? Number.NaN;
    out.maxMs = waits[waits.length - 1] ?? Number.NaN;
  }
  return out;
}

export interface SyncDemandRun {
  ratePerSecond: number;
  durationSeconds: number;
  timeoutMs: number;
  measured: DemandOutcome;
  /** The host's 1-minute load average when the run ended. */
  loadAverage: number;
}

export interface SyncDemandResult {
  generatedAt: string;
  host: string;
  wallSeconds: number;
  runs: SyncDemandRun[];
}

const pct = (part: number, whole: number) => (whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : "—");
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const sec = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "—");

/** Orders that did not get a paid answer: the customer gave up, or the API (or the in-flight cap) refused it. */
export function notCompleted(o: DemandOutcome): number {
  return o.timedOut + o.refused + o.dropped;
}

/** reports/study-sync-demand.md from one run. */
export function renderSyncDemand(result: SyncDemandResult): string {
  const lines: string[] = [];
  const first = result.runs[0];
  lines.push(
    "# The synchronous path under open-loop demand",
    "",
    `Generated by \`npm run study:sync-demand\` on ${result.generatedAt} (${result.host}); the run took ` +
      `${(result.wallSeconds / 60).toFixed(1)} min.`,
    "",
    'The study\'s "~52% lost" is its own estimate, not a measurement: it assumed "~200 orders attempted" ' +
      '("20 users * ~10 requests each") and divided its 95 completed requests by that (flash-sale-report.txt:155-158), ' +
      'and repeated the same estimate as "Actual Results" (flash-sale-report.txt:160-164). Its Test 2 itself had ' +
      "0 failures (flash-sale-report.txt:55): Locust's users wait for their answer, so a closed loop loses nobody. " +
      "Here the demand is open: orders arrive at a fixed rate whatever the answers do, each customer gives up after " +
      `a ${first ? first.timeoutMs / 1000 : 10} s client timeout, and the run counts what happens to each order.`,
    "",
    "Each rate runs on a fresh local stack (the API alone, embedded SQLite) with the study's physics, 5 payment " +
      "slots and 3 s per payment (flash-sale-report.txt:94-95), against `POST /orders/sync`, for " +
      `${first?.durationSeconds ?? 60} s of arrivals (the burst engine's arrival-rate model). The API keeps paying an ` +
      "order after its customer has gone (its handler does not watch the socket), so orders nobody waits for still " +
      "hold payment slots. **Theory** is the FIFO model in `bench/study/sync-demand.ts`: arrival k takes the first " +
      "free slot in order; orders still waiting under the timeout when the arrivals stop are cut off, as Locust does.",
    "",
    "| Rate | | Arrivals | Waited past 5 s | Waited 10 s and gave up | Refused | Answered | Cut off still waiting | Not completed (gave up + refused) | Median answer |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const run of result.runs) {
    const theory = syncDemandModel(run);
    for (const [label, o] of [
      ["theory", theory],
      ["measured", run.measured],
    ] as const) {
      lines.push(
        `| ${run.ratePerSecond}/s | ${label} | ${int(o.arrivals)} | ${int(o.waitedPast5s)} (${pct(o.waitedPast5s, o.arrivals)}) | ` +
          `${int(o.timedOut)} | ${int(o.refused + o.dropped)} | ${int(o.answered)} | ${int(o.cutOff)} | ` +
          `${int(notCompleted(o))} (${pct(notCompleted(o), o.arrivals)}) | ${sec(o.p50Ms)} |`,
      );
    }
  }
  lines.push(
    "",
    "A customer's wait runs from sending the order to its answer, to giving up at the timeout, or to the end of " +
      "the run, whichever comes first. Refused: an error status or a connection error, plus arrivals the load " +
      "generator's in-flight cap dropped.",
    "",
    "## Beside the study",
    "",
    "| Rate | The study names it | The study's figure | Measured here: answered within the timeout |",
    "| --- | --- | --- | ---: |",
  );
  for (const run of result.runs) {
    const level = SYNC_DEMAND_LEVELS.find((l) => l.ratePerSecond === run.ratePerSecond);
    const m = run.measured;
    lines.push(
      `| ${run.ratePerSecond}/s | ${level?.studyRate ?? "—"} | ${level?.studyOutcome ?? "—"} | ` +
        `${int(m.answered)} of ${int(m.arrivals)} (${pct(m.answered, m.arrivals)}); ${int(m.timedOut)} gave up, ` +
        `${int(m.cutOff)} still waiting at the end |`,
    );
  }
  lines.push(
    "",
    "Why the two differ: the study divides the slots' capacity by a demand it estimated and calls the rest " +
      "lost. With a timeout, what is lost is every order whose wait passes it, and the slots keep paying the " +
      "orders of customers who already left, so once the queue is longer than the timeout nearly every later " +
      "order is lost, not just the excess over capacity. (In the model every order still waiting at the end " +
      "stood behind more than the timeout's worth of payments: given time, they would have given up too.)",
    "",
    "## Method notes",
    "",
    `- The host's 1-minute load average at the end of each rate (2 CPUs): ${result.runs
      .map((r) => `${r.ratePerSecond}/s ${r.loadAverage.toFixed(2)}`)
      .join(", ")}. The figures are waits and counts set by the 3 s payments, not by the CPU.`,
    "- Raw data: `study-sync-demand.json` next to this file.",
    "",
  );
  return lines.join("\n");
}
