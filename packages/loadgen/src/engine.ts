import { EventEmitter, setMaxListeners } from "node:events";
import { errorMessage, newOrderId, type OrderInput } from "@surge/core";
import { type Clock, systemClock } from "./clock.js";
import { LatencyRecorder, type LatencySummaryMs } from "./histogram.js";
import { RateSchedule } from "./schedule.js";
import {
  BURST_BOUNDS,
  type BurstChange,
  type BurstMode,
  type BurstSpec,
  QUEUE_THRESHOLD_METRICS,
  type ThresholdMetric,
} from "./spec.js";
import type { OrderTarget } from "./target.js";

type BurstStatus = "running" | "completed" | "stopped" | "interrupted";

/** One second of a burst, counted by the time each answer arrived. */
export interface TimelinePoint {
  /** Seconds since the burst started: this point covers [second, second + 1). */
  second: number;
  /** Length of the interval in seconds: 1, except a last partial second. */
  intervalSeconds: number;
  /** Requests sent in this interval (an arrival-rate burst's rate is this, whatever the answers do). */
  sent: number;
  /** Answers received in this interval. */
  requests: number;
  failures: number;
  /** Answers per second in this interval (requests ÷ intervalSeconds). */
  requestsPerSecond: number;
  /** Latency of this interval's answers, from their scheduled arrival. */
  p50Ms: number;
  p99Ms: number;
  /** Service time (send → answer) of this interval's answers. */
  serviceP99Ms: number;
  /** Locust users running at the end of the interval (0 for an arrival-rate burst). */
  users: number;
  /** Requests awaiting an answer at the end of the interval. */
  inFlight: number;
  /** Arrival-rate bursts: the target rate during the interval. */
  targetRatePerSecond?: number;
  /** Arrivals dropped in this interval because maxInFlight was reached. */
  dropped: number;
}

/** A live change of users, spawn rate or arrival rate. */
interface BurstChangeRecord {
  atSecond: number;
  by: string;
  before: BurstChange;
  after: BurstChange;
}

/** What the burst sees of the order queue it loads (for the oldest-age and drain gates). */
export interface QueueSample {
  /** Orders accepted and not yet settled (queued, processing or failed awaiting a retry). */
  waiting: number;
  /** Age of the oldest of them, in seconds (0 with none). */
  oldestAgeSeconds: number;
}

/** Reads the queue's state; the API passes one backed by its order store. */
export interface QueueProbe {
  sample(): Promise<QueueSample>;
}

/** The queue as the burst watched it: during the load, then until it drained. */
export interface BurstQueueStats extends QueueSample {
  /** The oldest-order age at its highest, over the burst and its drain, in seconds. */
  peakOldestAgeSeconds: number;
  /** True from the end of the load until the queue drained or the watch gave up (queue gates only). */
  draining: boolean;
  /** True once a sample of the drain watch saw no order waiting. */
  drained: boolean;
  /**
   * Seconds from the end of the load until no order waited; while draining, or if the watch
   * gave up (stop, or maxDrainWatchSeconds), the seconds watched so far.
   */
  drainSeconds: number;
  /** The last failure to read the queue, if any. */
  error?: string;
}

/** One SLO gate's outcome once the burst has finished. */
export interface ThresholdResult {
  metric: ThresholdMetric;
  max: number;
  /**
   * The measured value. A gate that could not be measured fails: no answer at all, no queue
   * sample, or a queue that had not drained (then the value is the seconds watched).
   */
  value: number;
  pass: boolean;
}

/** Everything a burst knows about itself: live while it runs, final once it ended. */
export interface BurstStats {
  id: string;
  status: BurstStatus;
  spec: BurstSpec;
  target: string;
  startedBy: string;
  startedAt: string;
  endedAt?: string;
  elapsedSeconds: number;
  /** Locust users: the target count and those running now. */
  users?: { target: number; active: number; spawnRate: number };
  /** Arrival-rate bursts: the current target rate. */
  ratePerSecond?: number;
  /** Requests sent: requests + abandoned + inFlight. */
  sent: number;
  /** Answers received (successes and failures); requests cut off by the end are not in it. */
  requests: number;
  failures: number;
  failureRatio: number;
  /** requests ÷ elapsedSeconds, as Locust's aggregated req/s. */
  throughputPerSecond: number;
  failuresPerSecond: number;
  /** Answers in the last complete second. */
  currentRequestsPerSecond: number;
  /**
   * When the first and the last answer arrived, in seconds since the start (0 with none).
   * `requests ÷ (elapsedSeconds − firstResponseAtSeconds)` is the throughput once the
   * pipeline is full — for a saturated synchronous burst, the payment slots' rate.
   */
  firstResponseAtSeconds: number;
  lastResponseAtSeconds: number;
  inFlight: number;
  /** Arrivals not sent because maxInFlight requests were already waiting. */
  dropped: number;
  /** Requests still waiting for an answer when the burst ended (not counted, as in Locust). */
  abandoned: number;
  /**
   * Latency as a shopper feels it: from the request's scheduled arrival (the arrival-rate
   * schedule, or the end of a user's think time) to its answer. A sender that fell behind its
   * schedule (a stalled event loop) adds that lag here, not silently nowhere.
   */
  latencyMs: LatencySummaryMs;
  /** Service time: from the moment the request was sent to its answer. */
  serviceTimeMs: LatencySummaryMs;
  /** Schedule lag: how late each request was sent against its scheduled arrival. */
  scheduleLagMs: LatencySummaryMs;
  /**
   * Users model only: latencyMs corrected for coordinated omission (HdrHistogram's expected-interval
   * recording), counting the requests a user did not send while it waited on a slow answer.
   */
  correctedLatencyMs?: LatencySummaryMs;
  /** Present when a queue probe was given (the API always gives one). */
  queue?: BurstQueueStats;
  /** The SLO gates' outcomes, present once the burst has finished (after the drain watch, if any). */
  thresholds?: ThresholdResult[];
  /** Failures by reason ("HTTP 503", "timeout", "ECONNREFUSED"…). */
  errors: Record<string, number>;
  timeline: TimelinePoint[];
  changes: BurstChangeRecord[];
}

interface BurstEvents {
  /** Every answer (success or failure) as it arrives. */
  response: [{ mode: BurstMode; ok: boolean; latencyMs: number; serviceTimeMs: number }];
  second: [TimelinePoint];
  change: [BurstChangeRecord];
  end: [BurstStats];
}

interface BurstOptions {
  spec: BurstSpec;
  target: OrderTarget;
  /** The base URL the target points at, for the record. */
  targetUrl: string;
  /** Default: a new time-ordered UUID. */
  id?: string;
  /** Who started it (the operator token's label, "cli", "study"). Default "unknown". */
  startedBy?: string;
  /** Default: the system clock. Tests pass a manual one. */
  clock?: Clock;
  /** Uniform [0, 1) source for think times, Poisson gaps and order contents. Default Math.random. */
  random?: () => number;
  /**
   * The order queue, sampled once a second and, after the load, until it drains. Required
   * for the oldestAgeSeconds and drainSeconds thresholds.
   */
  queue?: QueueProbe;
}

interface User {
  retired: boolean;
}

/**
 * Tolerance when comparing scheduled instants with the clock: a timer set for
 * `t − now` from `now` can land one float ulp short of `t`, which must still count as `t`.
 */
const EPSILON_MS = 1e-6;

/** Caps the distinct failure reasons kept, so a pathological target cannot grow the map without bound. */
const MAX_ERROR_REASONS = 50;

/**
 * A flash-sale burst against the order API: Locust's closed-loop users or k6's open-loop arrival
 * rate (docs/bursts-and-the-study.md). Requests still in flight at the end are not counted, as Locust does.
 */
export class Burst extends EventEmitter<BurstEvents> {
  readonly id: string;
  readonly mode: BurstMode;
  readonly #spec: BurstSpec;
  readonly #target: OrderTarget;
  readonly #targetUrl: string;
  readonly #startedBy: string;
  readonly #clock: Clock;
  readonly #random: () => number;

  #status: BurstStatus = "running";
  #started = false;
  #t0 = 0;
  #startedAtMs = 0;
  #endedAtMs: number | undefined;
  #endedAtClock: number | undefined;
  /** Aborted when the burst ends: cuts off in-flight requests and wakes every sleeper. */
  readonly #end = new AbortController();
  /** Aborted by stop() or interrupt() during the drain watch. */
  readonly #endWatch = new AbortController();
  readonly #queueProbe: QueueProbe | undefined;
  #queue: BurstQueueStats | undefined;
  #loadEndedAt = 0;
  #sampling = false;
  #queueSamples = 0;
  #thresholds: ThresholdResult[] | undefined;
  #settled = false;
  /** Aborted (and replaced) on every change, to wake the spawner or the arrival loop. */
  #wake = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  #done: Promise<BurstStats> | undefined;

  // users model
  #targetUsers = 0;
  #spawnRate = 0;
  /** Running users, oldest first (a retired user leaves the set when its loop ends). */
  readonly #users = new Set<User>();
  #activeUsers = 0;
  // arrival-rate model
  #schedule: RateSchedule | undefined;

  #inFlight = 0;
  #sent = 0;
  #secondSent = 0;
  #requests = 0;
  #failures = 0;
  #dropped = 0;
  #abandoned = 0;
  #firstResponseAt: number | undefined;
  #lastResponseAt: number | undefined;
  readonly #errors = new Map<string, number>();
  readonly #latency = new LatencyRecorder();
  readonly #service = new LatencyRecorder();
  readonly #lag = new LatencyRecorder();
  readonly #corrected = new LatencyRecorder();
  /** The fastest answer so far: with the mean think time, a user's expected cycle when nothing stalls. */
  #minServiceMs = Number.POSITIVE_INFINITY;
  readonly #secondLatency = new LatencyRecorder();
  readonly #secondService = new LatencyRecorder();
  #secondIndex = 0;
  #secondFailures = 0;
  #secondDropped = 0;
  readonly #timeline: TimelinePoint[] = [];
  readonly #changes: BurstChangeRecord[] = [];

  constructor(options: BurstOptions) {
    super();
    this.id = options.id ?? newOrderId();
    this.#spec = { ...options.spec };
    this.mode = options.spec.mode;
    this.#target = options.target;
    this.#targetUrl = options.targetUrl;
    this.#startedBy = options.startedBy ?? "unknown";
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    if (this.#spec.model === "users") {
      this.#targetUsers = this.#spec.users;
      this.#spawnRate = this.#spec.spawnRate;
    } else {
      const spec = this.#spec;
      this.#schedule = spec.stages
        ? RateSchedule.fromStages(spec.ratePerSecond, spec.stages)
        : RateSchedule.constant(spec.ratePerSecond, spec.durationSeconds * 1000);
    }
    this.#queueProbe = options.queue;
    const needsQueue = (this.#spec.thresholds ?? []).filter((t) => QUEUE_THRESHOLD_METRICS.has(t.metric));
    if (needsQueue.length > 0 && !this.#queueProbe) {
      throw new BurstChangeError(
        `thresholds`,
        `${needsQueue.map((t) => t.metric).join(" and ")} need the order queue: run the burst through the API`,
      );
    }
    if (this.#queueProbe) {
      this.#queue = {
        waiting: 0,
        oldestAgeSeconds: 0,
        peakOldestAgeSeconds: 0,
        draining: false,
        drained: false,
        drainSeconds: 0,
      };
    }
    // Every in-flight request and every sleeper listens on these: thousands is expected, not a leak.
    setMaxListeners(0, this.#end.signal);
  }

  get status(): BurstStatus {
    return this.#status;
  }

  /** True once the load ended, every request settled, the drain watch (if any) ended and the gates are decided. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Resolves with the final stats once the burst has ended and every request has settled. */
  get done(): Promise<BurstStats> {
    if (!this.#done) throw new Error("burst not started");
    return this.#done;
  }

  start(): Promise<BurstStats> {
    if (this.#started) return this.done;
    this.#started = true;
    this.#t0 = this.#clock.now();
    this.#startedAtMs = Date.now();
    const endAt = this.#t0 + this.#spec.durationSeconds * 1000;
    this.#track(this.#spec.model === "users" ? this.#spawner() : this.#arrivals());
    this.#track(this.#ticker());
    this.#sampleQueue();
    this.#done = (async () => {
      await this.#clock.sleep(endAt - this.#clock.now(), this.#end.signal);
      this.#finish("completed");
      // Everything settles promptly: sleepers woke and requests were aborted by #finish.
      while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
      await this.#target.close().catch(() => {});
      await this.#watchDrain();
      this.#thresholds = this.#evaluateThresholds();
      this.#settled = true;
      const final = this.stats();
      this.emit("end", final);
      return final;
    })();
    return this.#done;
  }

  /** Ends the burst now: requests in flight are cut off. Resolves with the final stats. */
  stop(): Promise<BurstStats> {
    if (!this.#started) throw new Error("burst not started");
    this.#finish("stopped");
    this.#endWatch.abort();
    return this.done;
  }

  /**
   * Marks a burst whose process is going away: like stop(), recorded as interrupted.
   * Used when the API shuts down under a running burst.
   */
  interrupt(): Promise<BurstStats> {
    if (!this.#started) throw new Error("burst not started");
    this.#finish("interrupted");
    this.#endWatch.abort();
    return this.done;
  }

  /**
   * Changes the user count, spawn rate or arrival rate while the burst runs.
   * More users are spawned at the spawn rate; fewer users retire the newest
   * ones after their current request. Returns the record of the change.
   */
  change(change: BurstChange, by = "unknown"): BurstChangeRecord {
    if (this.#status !== "running") throw new BurstNotRunningError(`burst ${this.id} is ${this.#status}`);
    const before: BurstChange = {};
    const after: BurstChange = {};
    if (this.#spec.model === "users") {
      if (change.ratePerSecond !== undefined) {
        throw new BurstChangeError("ratePerSecond", "this burst runs users: change users or spawnRate");
      }
      if (change.spawnRate !== undefined) {
        before.spawnRate = this.#spawnRate;
        after.spawnRate = this.#spawnRate = boundedPositive(change.spawnRate, BURST_BOUNDS.maxUsers, "spawnRate");
      }
      if (change.users !== undefined) {
        before.users = this.#targetUsers;
        after.users = boundedUsers(change.users);
        this.#setUsers(after.users);
      }
    } else {
      if (change.users !== undefined || change.spawnRate !== undefined) {
        throw new BurstChangeError("users", "this burst runs at an arrival rate: change ratePerSecond");
      }
      if (change.ratePerSecond !== undefined && this.#schedule) {
        // A staged burst leaves its stages here: the new rate holds until the end.
        const at = this.#elapsedMs();
        before.ratePerSecond = this.#schedule.rateAt(at);
        after.ratePerSecond = boundedPositive(change.ratePerSecond, BURST_BOUNDS.maxRatePerSecond, "ratePerSecond");
        this.#schedule = this.#schedule.withConstantFrom(at, after.ratePerSecond);
      }
    }
    this.#wakeUp();
    const record: BurstChangeRecord = { atSecond: round(this.#elapsedMs() / 1000, 3), by, before, after };
    this.#changes.push(record);
    this.emit("change", record);
    return record;
  }

  /** The stats as of now; `timeline: false` leaves the per-second points out (listings, the state snapshot). */
  stats(options: { timeline?: boolean | number } = {}): BurstStats {
    const elapsedSeconds = this.#elapsedMs() / 1000;
    const last = this.#timeline.at(-1);
    const timeline =
      options.timeline === false
        ? []
        : typeof options.timeline === "number"
          ? this.#timeline.slice(-options.timeline)
          : [...this.#timeline];
    const rateNow = this.#schedule?.rateAt(Math.min(this.#elapsedMs(), this.#schedule.endMs - EPSILON_MS)) ?? 0;
    const spec: BurstSpec =
      this.#spec.model === "users"
        ? { ...this.#spec, users: this.#targetUsers, spawnRate: this.#spawnRate }
        : this.#spec.stages
          ? { ...this.#spec }
          : { ...this.#spec, ratePerSecond: rateNow };
    return {
      id: this.id,
      status: this.#status,
      spec,
      target: this.#targetUrl,
      startedBy: this.#startedBy,
      startedAt: new Date(this.#startedAtMs).toISOString(),
      ...(this.#endedAtMs !== undefined && { endedAt: new Date(this.#endedAtMs).toISOString() }),
      elapsedSeconds: round(elapsedSeconds, 3),
      ...(this.#spec.model === "users"
        ? { users: { target: this.#targetUsers, active: this.#activeUsers, spawnRate: this.#spawnRate } }
        : { ratePerSecond: round(rateNow, 3) }),
      sent: this.#sent,
      requests: this.#requests,
      failures: this.#failures,
      failureRatio: this.#requests === 0 ? 0 : this.#failures / this.#requests,
      throughputPerSecond: elapsedSeconds > 0 ? this.#requests / elapsedSeconds : 0,
      failuresPerSecond: elapsedSeconds > 0 ? this.#failures / elapsedSeconds : 0,
      currentRequestsPerSecond: last?.requestsPerSecond ?? 0,
      firstResponseAtSeconds: round(((this.#firstResponseAt ?? this.#t0) - this.#t0) / 1000, 4),
      lastResponseAtSeconds: round(((this.#lastResponseAt ?? this.#t0) - this.#t0) / 1000, 4),
      inFlight: this.#inFlight,
      dropped: this.#dropped,
      abandoned: this.#abandoned,
      latencyMs: this.#latency.summary(),
      serviceTimeMs: this.#service.summary(),
      scheduleLagMs: this.#lag.summary(),
      ...(this.#spec.model === "users" && { correctedLatencyMs: this.#corrected.summary() }),
      ...(this.#queue && { queue: { ...this.#queue } }),
      ...(this.#thresholds && { thresholds: this.#thresholds.map((t) => ({ ...t })) }),
      errors: Object.fromEntries(this.#errors),
      timeline,
      changes: [...this.#changes],
    };
  }

  #elapsedMs(): number {
    if (!this.#started) return 0;
    return (this.#endedAtClock ?? this.#clock.now()) - this.#t0;
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }

  #wakeUp(): void {
    const previous = this.#wake;
    this.#wake = new AbortController();
    previous.abort();
  }

  /** Sleeps until `ms` passed, a change happened or the burst ended. */
  #nap(ms: number): Promise<void> {
    return this.#clock.sleep(ms, AbortSignal.any([this.#wake.signal, this.#end.signal]));
  }

  #finish(status: BurstStatus): void {
    if (this.#status !== "running") return;
    this.#status = status;
    this.#endedAtClock = this.#clock.now();
    this.#endedAtMs = Date.now();
    this.#loadEndedAt = this.#endedAtClock;
    // Draining from the end of the load on, so no reader sees an ended burst with its gates undecided and no watch.
    if (this.#queue && (this.#spec.thresholds ?? []).some((t) => QUEUE_THRESHOLD_METRICS.has(t.metric))) {
      this.#queue.draining = true;
    }
    this.#closeSeconds(this.#endedAtClock);
    this.#closePartialSecond(this.#endedAtClock);
    this.#end.abort(new Error(`burst ${status}`));
    this.#wakeUp();
  }

  // --- Locust's user model ------------------------------------------------------------

  #setUsers(count: number): void {
    this.#targetUsers = count;
    // Fewer users: retire the newest first, each after its current request.
    for (const user of [...this.#users].reverse()) {
      if (this.#activeUsers <= count) break;
      if (!user.retired) {
        user.retired = true;
        this.#activeUsers--;
      }
    }
  }

  /**
   * Starts users one every 1/spawnRate seconds until the target count runs, then waits for a change.
   * Spawn times are computed as base + k/rate rather than accumulated, so they do not drift.
   */
  async #spawner(): Promise<void> {
    let rate = this.#spawnRate;
    let base = this.#clock.now();
    let k = 0;
    while (this.#status === "running") {
      if (rate !== this.#spawnRate) {
        // The new rate applies from the last spawn: the next user comes 1/newRate after it.
        base += (Math.max(0, k - 1) * 1000) / rate;
        k = k > 0 ? 1 : 0;
        rate = this.#spawnRate;
      }
      if (this.#activeUsers >= this.#targetUsers) {
        await this.#nap(Number.POSITIVE_INFINITY);
        // After a pause the next user starts at once, not in a catch-up rush.
        const now = this.#clock.now();
        if (base + (k * 1000) / rate < now) {
          base = now;
          k = 0;
        }
        continue;
      }
      const nextSpawnAt = base + (k * 1000) / rate;
      const now = this.#clock.now();
      if (now + EPSILON_MS < nextSpawnAt) {
        await this.#nap(nextSpawnAt - now);
        continue;
      }
      const user: User = { retired: false };
      this.#users.add(user);
      this.#activeUsers++;
      this.#track(this.#runUser(user, nextSpawnAt));
      k++;
    }
  }

  /** One Locust user: order, think, repeat. `firstAt` is when its spawn was due. */
  async #runUser(user: User, firstAt: number): Promise<void> {
    const spec = this.#spec;
    if (spec.model !== "users") return;
    let scheduledAt = firstAt;
    try {
      while (this.#status === "running" && !user.retired) {
        await this.#request(scheduledAt);
        if (this.#status !== "running" || user.retired) break;
        const thinkMs = spec.waitMinMs + this.#random() * (spec.waitMaxMs - spec.waitMinMs);
        // The next order is due when the think time ends, however late the timer fires.
        scheduledAt = this.#clock.now() + thinkMs;
        await this.#clock.sleep(thinkMs, this.#end.signal);
      }
    } finally {
      this.#users.delete(user);
    }
  }

  // --- k6's arrival-rate model --------------------------------------------------------

  /**
   * Starts orders on the schedule's arrival times until the end: arrival k (counted in expected
   * arrivals, Λ) is due at Λ⁻¹(k), evenly spaced (k = 0, 1, 2, …) or Poisson (k a running sum of
   * Exp(1) draws). A loop that fell behind sends every due arrival at once, so a busy event loop
   * does not lower the rate; each keeps its scheduled time, so the lag counts in its latency.
   */
  async #arrivals(): Promise<void> {
    const spec = this.#spec;
    if (spec.model !== "arrival-rate" || !this.#schedule) return;
    const poisson = spec.arrival === "poisson";
    const endMs = spec.durationSeconds * 1000;
    const gap = () => (poisson ? -Math.log(1 - this.#random()) : 1);
    let units = poisson ? gap() : this.#schedule.rateAt(0) > 0 ? 0 : 1;
    while (this.#status === "running") {
      // A live change replaces the schedule from now on; Λ is continuous, so no arrival is skipped or bunched.
      const schedule = this.#schedule;
      const now = this.#clock.now() - this.#t0;
      let at = schedule.timeOfUnits(units);
      while (at <= now + EPSILON_MS && at < endMs - EPSILON_MS && this.#status === "running") {
        if (this.#inFlight >= spec.maxInFlight) {
          this.#dropped++;
          this.#secondDropped++;
        } else {
          this.#track(this.#request(this.#t0 + at));
        }
        units += gap();
        at = schedule.timeOfUnits(units);
      }
      await this.#nap(at >= endMs - EPSILON_MS ? Number.POSITIVE_INFINITY : this.#t0 + at - this.#clock.now());
    }
  }

  // --- one request --------------------------------------------------------------------

  /** Sends one order that was due at `scheduledAt` (clock time). */
  async #request(scheduledAt: number): Promise<void> {
    const { mode, timeoutMs } = this.#spec;
    const body = JSON.stringify(randomOrder(this.#random));
    const request = new AbortController();
    const cutOff = () => request.abort(this.#end.signal.reason);
    this.#end.signal.addEventListener("abort", cutOff, { once: true });
    let timedOut = false;
    void this.#clock.sleep(timeoutMs, request.signal).then(() => {
      if (request.signal.aborted) return;
      timedOut = true;
      request.abort(new Error(`timeout after ${timeoutMs} ms`));
    });
    this.#inFlight++;
    const started = this.#clock.now();
    this.#closeSeconds(started);
    this.#sent++;
    this.#secondSent++;
    let reason: string | undefined;
    try {
      const { status } = await this.#target.placeOrder(mode, body, request.signal);
      if (status < 200 || status >= 300) reason = `HTTP ${status}`;
    } catch (error) {
      if (!timedOut && this.#end.signal.aborted) {
        // Cut off by the end of the burst: not an answer, not counted (Locust does the same).
        this.#abandoned++;
        return;
      }
      reason = timedOut ? "timeout" : failureReason(error);
    } finally {
      this.#inFlight--;
      this.#end.signal.removeEventListener("abort", cutOff);
      request.abort(); // releases the timeout sleeper
    }
    const answeredAt = this.#clock.now();
    const lagMs = Math.max(0, started - scheduledAt);
    this.#record(answeredAt - started + lagMs, answeredAt - started, lagMs, reason);
  }

  #record(latencyMs: number, serviceTimeMs: number, lagMs: number, failure: string | undefined): void {
    if (this.#status !== "running") {
      // Answered after the end was declared but before its abort landed: outside the run.
      this.#abandoned++;
      return;
    }
    const now = this.#clock.now();
    this.#closeSeconds(now);
    this.#firstResponseAt ??= now;
    this.#lastResponseAt = now;
    this.#requests++;
    this.#latency.record(latencyMs);
    this.#service.record(serviceTimeMs);
    this.#lag.record(lagMs);
    this.#secondLatency.record(latencyMs);
    this.#secondService.record(serviceTimeMs);
    if (this.#spec.model === "users") {
      this.#minServiceMs = Math.min(this.#minServiceMs, serviceTimeMs);
      const meanThinkMs = (this.#spec.waitMinMs + this.#spec.waitMaxMs) / 2;
      this.#corrected.recordCorrected(latencyMs, meanThinkMs + this.#minServiceMs);
    }
    if (failure !== undefined) {
      this.#failures++;
      this.#secondFailures++;
      const key = this.#errors.has(failure) || this.#errors.size < MAX_ERROR_REASONS ? failure : "other";
      this.#errors.set(key, (this.#errors.get(key) ?? 0) + 1);
    }
    this.emit("response", { mode: this.mode, ok: failure === undefined, latencyMs, serviceTimeMs });
  }

  // --- the per-second timeline ---------------------------------------------------------

  async #ticker(): Promise<void> {
    while (this.#status === "running") {
      const nextBoundary = this.#t0 + (this.#secondIndex + 1) * 1000;
      await this.#clock.sleep(nextBoundary - this.#clock.now(), this.#end.signal);
      if (this.#status !== "running") return;
      this.#closeSeconds(this.#clock.now());
      this.#sampleQueue();
    }
  }

  // --- the queue: sampled while the load runs, then watched until it drains ------------

  /** Takes one queue sample in the background (one at a time: a slow store is not piled onto). */
  #sampleQueue(): void {
    if (!this.#queueProbe || this.#sampling) return;
    this.#sampling = true;
    this.#track(
      this.#takeSample().then(
        () => {
          this.#sampling = false;
        },
        () => {
          this.#sampling = false;
        },
      ),
    );
  }

  async #takeSample(): Promise<QueueSample | undefined> {
    const probe = this.#queueProbe;
    const queue = this.#queue;
    if (!probe || !queue) return undefined;
    try {
      const sample = await probe.sample();
      queue.waiting = sample.waiting;
      queue.oldestAgeSeconds = round(sample.oldestAgeSeconds, 3);
      queue.peakOldestAgeSeconds = Math.max(queue.peakOldestAgeSeconds, queue.oldestAgeSeconds);
      delete queue.error;
      this.#queueSamples++;
      return sample;
    } catch (error) {
      queue.error = errorMessage(error).slice(0, 200);
      return undefined;
    }
  }

  /**
   * After the load, for a burst with queue gates: samples the queue once a second until no order
   * waits, those gates are decided (all already breached), stop() or interrupt(), or
   * maxDrainWatchSeconds. Without queue gates, one sample and done.
   */
  async #watchDrain(): Promise<void> {
    const queue = this.#queue;
    if (!queue) return;
    const gates = (this.#spec.thresholds ?? []).filter((t) => QUEUE_THRESHOLD_METRICS.has(t.metric));
    if (gates.length === 0) {
      // Nothing to decide: one last look, so the record says what the load left behind.
      await this.#takeSample();
      return;
    }
    queue.draining = true;
    const watchedSeconds = () => round((this.#clock.now() - this.#loadEndedAt) / 1000, 3);
    const decided = () =>
      gates.length > 0 &&
      gates.every((g) => (g.metric === "drainSeconds" ? watchedSeconds() > g.max : queue.peakOldestAgeSeconds > g.max));
    try {
      for (let i = 0; ; i++) {
        const sample = await this.#takeSample();
        queue.drainSeconds = watchedSeconds();
        if (sample && sample.waiting === 0) {
          queue.drained = true;
          return;
        }
        if (this.#endWatch.signal.aborted || decided()) return;
        if (queue.drainSeconds >= BURST_BOUNDS.maxDrainWatchSeconds) return;
        // Sampled on whole seconds after the end, so a drain is timed to the second it happened in.
        await this.#clock.sleep(this.#loadEndedAt + (i + 1) * 1000 - this.#clock.now(), this.#endWatch.signal);
      }
    } finally {
      queue.draining = false;
    }
  }

  #evaluateThresholds(): ThresholdResult[] | undefined {
    const thresholds = this.#spec.thresholds;
    if (!thresholds || thresholds.length === 0) return undefined;
    return thresholds.map(({ metric, max }) => {
      const { value, measured } = this.#thresholdValue(metric);
      return { metric, max, value, pass: measured && value <= max };
    });
  }

  /** A gate's value; `measured: false` (no queue sample, a drain not seen) fails the gate whatever the value. */
  #thresholdValue(metric: ThresholdMetric): { value: number; measured: boolean } {
    switch (metric) {
      case "p99Ms": {
        // What shoppers feel: from the scheduled arrival; for closed-loop users, corrected too.
        const recorder = this.#spec.model === "users" ? this.#corrected : this.#latency;
        return { value: round(recorder.percentileMs(99), 3), measured: recorder.count > 0 };
      }
      case "failureRatio": {
        // An arrival never sent (maxInFlight) is a shopper who got no answer: it counts as a failure.
        const total = this.#requests + this.#dropped;
        return { value: total === 0 ? 0 : round((this.#failures + this.#dropped) / total, 6), measured: total > 0 };
      }
      case "oldestAgeSeconds":
        return { value: this.#queue?.peakOldestAgeSeconds ?? 0, measured: this.#queueSamples > 0 };
      case "drainSeconds":
        // Not drained: the seconds watched, a lower bound, and a failed gate.
        return { value: this.#queue?.drainSeconds ?? 0, measured: this.#queue?.drained === true };
    }
  }

  /** Closes every whole second that ended at or before `now`. */
  #closeSeconds(now: number): void {
    while (this.#t0 + (this.#secondIndex + 1) * 1000 <= now + EPSILON_MS) this.#pushPoint(1);
  }

  #closePartialSecond(now: number): void {
    const intervalSeconds = (now - (this.#t0 + this.#secondIndex * 1000)) / 1000;
    if (intervalSeconds > 0.001) this.#pushPoint(intervalSeconds);
  }

  #pushPoint(intervalSeconds: number): void {
    const requests = this.#secondLatency.count;
    const point: TimelinePoint = {
      second: this.#secondIndex,
      intervalSeconds: round(intervalSeconds, 3),
      sent: this.#secondSent,
      requests,
      failures: this.#secondFailures,
      requestsPerSecond: round(requests / intervalSeconds, 3),
      p50Ms: round(this.#secondLatency.percentileMs(50), 3),
      p99Ms: round(this.#secondLatency.percentileMs(99), 3),
      serviceP99Ms: round(this.#secondService.percentileMs(99), 3),
      users: this.#activeUsers,
      inFlight: this.#inFlight,
      ...(this.#schedule && {
        targetRatePerSecond: round(
          this.#schedule.rateAt(Math.min(this.#clock.now() - this.#t0, this.#schedule.endMs) - EPSILON_MS),
          3,
        ),
      }),
      dropped: this.#secondDropped,
    };
    this.#timeline.push(point);
    this.#secondIndex++;
    this.#secondLatency.reset();
    this.#secondService.reset();
    this.#secondFailures = 0;
    this.#secondDropped = 0;
    this.#secondSent = 0;
    this.emit("second", point);
  }
}

/** A change that does not fit the burst (wrong model, out of bounds). */
export class BurstChangeError extends RangeError {
  override readonly name = "BurstChangeError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The burst already ended. */
class BurstNotRunningError extends Error {
  override readonly name = "BurstNotRunningError";
}

function boundedUsers(users: number): number {
  if (!Number.isInteger(users) || users < 1 || users > BURST_BOUNDS.maxUsers) {
    throw new BurstChangeError("users", `users must be an integer in 1..${BURST_BOUNDS.maxUsers}`);
  }
  return users;
}

function boundedPositive(value: number, max: number, field: string): number {
  if (!(value > 0) || value > max) throw new BurstChangeError(field, `${field} must be above 0 and at most ${max}`);
  return value;
}

/** The study's locustfile: a customer buying 1–5 random items. */
function randomOrder(random: () => number): OrderInput {
  const count = 1 + Math.floor(random() * 5);
  return {
    customerId: 1 + Math.floor(random() * 1_000_000),
    items: Array.from({ length: count }, () => ({
      productId: `sku-${1 + Math.floor(random() * 500)}`,
      quantity: 1 + Math.floor(random() * 3),
      price: Math.round((1 + random() * 199) * 100) / 100,
    })),
  };
}

/** A short, bounded name for why a request failed: the error code when there is one. */
function failureReason(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === "string" ? e.code : typeof e.cause?.code === "string" ? e.cause.code : undefined;
  if (code) return code;
  return error instanceof Error ? error.name : errorMessage(error).slice(0, 60);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
