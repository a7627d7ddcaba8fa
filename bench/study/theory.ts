/**
 * What queueing theory says the study's experiments should measure: Locust's closed loop against c = 5
 * FIFO payment slots, in steady state and stepped through a finite run (docs/bursts-and-the-study.md#the-theory-column).
 */
import { seededRandom } from "@surge/loadgen";

export interface ClosedLoopModel {
  users: number;
  /** Users started per second. */
  spawnRate: number;
  durationSeconds: number;
  thinkMinSeconds: number;
  thinkMaxSeconds: number;
  /** Parallel servers; Infinity for a path with no queue (the async accept). */
  servers: number;
  /** Service time per request, seconds (deterministic). */
  serviceSeconds: number;
}

interface SteadyState {
  throughputPerSecond: number;
  responseSeconds: number;
  saturated: boolean;
}

/** The interactive response-time law: X = min(N/(S+Z̄), c/S), R = N/X − Z̄. */
export function steadyState(m: ClosedLoopModel): SteadyState {
  const thinkMean = (m.thinkMinSeconds + m.thinkMaxSeconds) / 2;
  const demand = m.users / (m.serviceSeconds + thinkMean);
  const capacity = m.servers / m.serviceSeconds;
  if (demand <= capacity) return { throughputPerSecond: demand, responseSeconds: m.serviceSeconds, saturated: false };
  return { throughputPerSecond: capacity, responseSeconds: m.users / capacity - thinkMean, saturated: true };
}

interface SimulatedRun {
  requests: number;
  throughputPerSecond: number;
  meanSeconds: number;
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
}

/**
 * Steps the closed loop through one finite run, `replications` times with
 * different think-time draws, and averages each figure. Users start at k /
 * spawnRate; an answer counts only if it arrives before the end.
 */
export function simulateClosedLoop(m: ClosedLoopModel, replications = 200, seed = 1): SimulatedRun {
  const random = seededRandom(seed);
  const runs: SimulatedRun[] = [];
  for (let r = 0; r < replications; r++) runs.push(simulateOnce(m, random));
  const mean = (f: (s: SimulatedRun) => number) => runs.reduce((sum, s) => sum + f(s), 0) / runs.length;
  return {
    requests: mean((s) => s.requests),
    throughputPerSecond: mean((s) => s.throughputPerSecond),
    meanSeconds: mean((s) => s.meanSeconds),
    medianSeconds: mean((s) => s.medianSeconds),
    minSeconds: mean((s) => s.minSeconds),
    maxSeconds: mean((s) => s.maxSeconds),
  };
}

function simulateOnce(m: ClosedLoopModel, random: () => number): SimulatedRun {
  const end = m.durationSeconds;
  // Pending arrivals (a user sending a request), kept sorted by time.
  const arrivals: number[] = [];
  for (let k = 0; k < m.users; k++) arrivals.push(k / m.spawnRate);
  const think = () => m.thinkMinSeconds + random() * (m.thinkMaxSeconds - m.thinkMinSeconds);
  // Each server is free from this time on; FIFO means a request takes the earliest free server.
  const freeAt = Number.isFinite(m.servers) ? new Array<number>(m.servers).fill(0) : undefined;
  const responses: number[] = [];
  while (arrivals.length > 0) {
    const sentAt = arrivals.shift() as number;
    if (sentAt >= end) continue;
    let startAt = sentAt;
    if (freeAt) {
      let best = 0;
      for (let i = 1; i < freeAt.length; i++) if ((freeAt[i] as number) < (freeAt[best] as number)) best = i;
      startAt = Math.max(sentAt, freeAt[best] as number);
      freeAt[best] = startAt + m.serviceSeconds;
    }
    const answeredAt = startAt + m.serviceSeconds;
    if (answeredAt >= end) continue; // cut off by the end of the run, not counted
    responses.push(answeredAt - sentAt);
    insertSorted(arrivals, answeredAt + think());
  }
  responses.sort((a, b) => a - b);
  const n = responses.length;
  return {
    requests: n,
    throughputPerSecond: n / end,
    meanSeconds: n ? responses.reduce((a, b) => a + b, 0) / n : 0,
    medianSeconds: n ? (responses[Math.floor((n - 1) / 2)] as number) : 0,
    minSeconds: n ? (responses[0] as number) : 0,
    maxSeconds: n ? (responses[n - 1] as number) : 0,
  };
}

/**
 * FIFO order across servers holds because arrivals are processed in time
 * order: each request is assigned when it arrives, never overtaking one that
 * arrived earlier.
 */
function insertSorted(list: number[], value: number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, value);
}

/** Processing rate of one worker task: min(in-flight per task, payment slots) payments every S seconds. */
export function processingRatePerSecond(concurrency: number, slots: number, serviceSeconds: number): number {
  return Math.min(concurrency, slots) / serviceSeconds;
}
