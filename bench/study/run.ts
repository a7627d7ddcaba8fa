import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type OrderQueue, type OrderStore, openOrderStore } from "@surge/core";
import type { BurstStats, UsersBurstSpec } from "@surge/loadgen";
import type { Stack } from "@surge/local/stack";
import { startBenchStack } from "../lib/stack.js";
import { STUDY_THINK_MS, studyStackEnv } from "./figures.js";
import type { LoadMessage } from "./load-process.js";

/** A Locust run as the study specified it, in the study's own units (seconds, users per second). */
export interface LoadTestSpec {
  users: number;
  spawnRate: number;
  durationSeconds: number;
  mode: "sync" | "async";
}

interface RunSettings {
  repoRoot: string;
  /** Every study duration is multiplied by this, every rate divided by it (1 = the study's real time). */
  timeScale: number;
  log: (line: string) => void;
}

/** One sample of the queue during an async experiment; `tMs` is real time since the burst started. */
export interface QueueSample {
  tMs: number;
  visible: number;
  inFlight: number;
  accepted: number;
  paid: number;
}

export interface AsyncStepResult {
  concurrency: number;
  burst: BurstStats;
  samples: QueueSample[];
  /** Real ms from the burst's start to its end, and to the end of observation. */
  burstEndMs: number;
  observedUntilMs: number;
  /** Orders paid per real second: least-squares slope of the paid count while payments ran. */
  processingPerSecondReal: number;
  /** The study's method: fall of the visible count per real second after the burst. */
  visibleDropPerSecondReal: number;
  peakVisible: number;
  inFlightAtPeak: number;
  /** accepted − paid when the burst ended (the store's exact backlog). */
  backlogAtBurstEnd: number;
  /** Real ms from the burst's end until nothing was left, when a full drain was observed. */
  drainObservedMs?: number;
}

interface StackContext {
  stack: Stack;
  store: OrderStore;
  queue: OrderQueue;
}

/**
 * A fresh local stack for one experiment, with the study's payment scaled by the time scale: each
 * experiment starting clean means no backlog from the one before can leak into its queue depth.
 */
async function withStack<T>(
  settings: RunSettings,
  fleet: { workerTasks: number; concurrency: number },
  fn: (ctx: StackContext) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), "surge-study-"));
  const bench = await startBenchStack({
    repoRoot: settings.repoRoot,
    dataDir,
    name: "study-orders",
    workerTasks: fleet.workerTasks,
    workerConcurrency: fleet.concurrency,
    env: studyStackEnv(settings.timeScale),
    supervisor: { stopTimeoutMs: 10_000 },
  });
  const { stack, queue } = bench;
  let store: OrderStore | undefined;
  try {
    // startStack has waited for the API's /health; the workers may still be starting.
    await waitUntil(
      () => stack.supervisor.snapshot().running >= fleet.workerTasks,
      30_000,
      `${fleet.workerTasks} worker task(s) to be ready`,
    );
    // The same SQLite file the API and the worker use (WAL: reading it does not block them).
    store = openOrderStore({ dataDir });
    return await fn({ stack, store, queue });
  } finally {
    await store?.close();
    await bench.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The study's Locust run, scaled: durations × timeScale, rates ÷ timeScale. */
export function scaledSpec(spec: LoadTestSpec, timeScale: number): UsersBurstSpec {
  return {
    model: "users",
    mode: spec.mode,
    users: spec.users,
    spawnRate: spec.spawnRate / timeScale,
    durationSeconds: spec.durationSeconds * timeScale,
    waitMinMs: STUDY_THINK_MS.min * timeScale,
    waitMaxMs: STUDY_THINK_MS.max * timeScale,
    // Locust waits as long as it takes; the bound only catches a wedged API.
    timeoutMs: 300_000,
  };
}

/**
 * Runs the burst engine in a process of its own (bench/study/load-process.ts),
 * as Locust ran on its own machine. `onStarted` fires when the burst begins,
 * so the queue samples can be put on the burst's own time axis.
 */
export function runBurst(apiUrl: string, spec: UsersBurstSpec, onStarted: () => void = () => {}): Promise<BurstStats> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./load-process.ts", import.meta.url)), [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let settled = false;
    child.on("message", (msg: LoadMessage) => {
      if (msg.type === "started") onStarted();
      else if (msg.type === "done") {
        settled = true;
        resolve(msg.stats);
      } else {
        settled = true;
        reject(new Error(`load generator failed: ${msg.error}`));
      }
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`load generator exited (${code}) before reporting`));
    });
    child.send({ apiUrl, spec });
  });
}

/** A synchronous load test (Test 1, Test 2): no worker tasks; the API's own payment slots are the bottleneck. */
export async function runSyncTest(settings: RunSettings, spec: LoadTestSpec): Promise<BurstStats> {
  return withStack(settings, { workerTasks: 0, concurrency: 1 }, ({ stack }) =>
    runBurst(stack.apiUrl, scaledSpec(spec, settings.timeScale)),
  );
}

/** Samples queue depth (SQS) and accepted/paid counts (the store) until stopped. */
class QueueSampler {
  readonly samples: QueueSample[] = [];
  #running = true;
  #loop: Promise<void> | undefined;

  /** Set when the burst starts; until then samples are kept relative to the sampler's start. */
  t0 = performance.now();

  constructor(
    readonly ctx: StackContext,
    readonly intervalMs: number,
  ) {}

  start(): void {
    this.#loop = (async () => {
      while (this.#running) {
        const started = performance.now();
        try {
          const [depth, counts] = await Promise.all([this.ctx.queue.depth(), this.ctx.store.countByStatus()]);
          this.samples.push({
            tMs: (started + performance.now()) / 2,
            visible: depth.visible,
            inFlight: depth.inFlight,
            accepted: Object.values(counts).reduce((a, b) => a + b, 0),
            paid: counts.paid,
          });
        } catch {
          // A missed sample (the emulator busy for a moment) is a gap, not a failure.
        }
        await sleep(Math.max(0, this.intervalMs - (performance.now() - started)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** The samples on the burst's time axis (t = 0 when it started). */
  relative(): QueueSample[] {
    return this.samples.map((s) => ({ ...s, tMs: s.tMs - this.t0 }));
  }

  last(): QueueSample | undefined {
    const s = this.samples.at(-1);
    return s && { ...s, tMs: s.tMs - this.t0 };
  }
}

/**
 * Least-squares slope of paid orders against time, over the samples from the
 * first payment to the last one: payments land in steps (five at a time when
 * the slots run in lockstep), and the fit reads the staircase's slope without
 * depending on where a window happens to cut a step.
 */
export function paidSlopePerSecond(samples: ReadonlyArray<QueueSample>): number {
  const firstPaid = samples.findIndex((s, i) => i > 0 && s.paid > (samples[i - 1]?.paid ?? 0));
  let lastPaid = -1;
  for (let i = samples.length - 1; i > 0; i--) {
    if ((samples[i]?.paid ?? 0) > (samples[i - 1]?.paid ?? 0)) {
      lastPaid = i;
      break;
    }
  }
  if (firstPaid < 0 || lastPaid <= firstPaid) return 0;
  const points = samples.slice(firstPaid, lastPaid + 1);
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.tMs, 0) / n;
  const my = points.reduce((s, p) => s + p.paid, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.tMs - mx) * (p.paid - my);
    sxx += (p.tMs - mx) ** 2;
  }
  return sxx === 0 ? 0 : (sxy / sxx) * 1000;
}

/**
 * One step of the concurrency sweep, which is also Test 3 at concurrency 1:
 * the async flash sale against one worker task at `concurrency` in flight,
 * then `observeSeconds` (study time) of watching the queue drain — or, with
 * `fullDrain`, watching until it is empty (bounded by `drainTimeoutSeconds`).
 */
export async function runAsyncStep(
  settings: RunSettings,
  spec: LoadTestSpec,
  concurrency: number,
  options: { observeSeconds: number; fullDrain: boolean; drainTimeoutSeconds: number },
): Promise<AsyncStepResult> {
  const k = settings.timeScale;
  return withStack(settings, { workerTasks: 1, concurrency }, async (ctx) => {
    // One sample per tenth of a study-second: fine enough to resolve single payments at any scale.
    const sampler = new QueueSampler(ctx, Math.max(20, 100 * k));
    sampler.start();
    const stats = await runBurst(ctx.stack.apiUrl, scaledSpec(spec, k), () => {
      sampler.t0 = performance.now();
    });
    const burstEndMs = stats.elapsedSeconds * 1000;
    // The store's count is exact; the relay may still be publishing the last orders for a moment.
    const atEnd = await ctx.store.countByStatus();
    const backlogAtBurstEnd = Object.values(atEnd).reduce((a, b) => a + b, 0) - atEnd.paid - atEnd.dead;
    let drainObservedMs: number | undefined;
    if (options.fullDrain) {
      const deadline = performance.now() + options.drainTimeoutSeconds * 1000 * k;
      for (;;) {
        const last = sampler.last();
        if (last && last.tMs > burstEndMs && last.accepted > 0 && last.paid >= last.accepted) {
          drainObservedMs = last.tMs - burstEndMs;
          break;
        }
        if (performance.now() > deadline) break;
        await sleep(sampler.intervalMs);
      }
    } else {
      await sleep(options.observeSeconds * 1000 * k);
    }
    await sampler.stop();
    const samples = sampler.relative().filter((s) => s.tMs >= 0);
    const observedUntilMs = samples.at(-1)?.tMs ?? burstEndMs;
    let peak = samples[0];
    for (const s of samples) if (!peak || s.visible > peak.visible) peak = s;
    const atBurstEnd = samples.find((s) => s.tMs >= burstEndMs);
    const lastSample = samples.at(-1);
    const visibleDropPerSecondReal =
      atBurstEnd && lastSample && lastSample.tMs > atBurstEnd.tMs
        ? ((atBurstEnd.visible - lastSample.visible) / (lastSample.tMs - atBurstEnd.tMs)) * 1000
        : 0;
    return {
      concurrency,
      burst: stats,
      samples,
      burstEndMs,
      observedUntilMs,
      processingPerSecondReal: paidSlopePerSecond(samples),
      visibleDropPerSecondReal,
      peakVisible: peak?.visible ?? 0,
      inFlightAtPeak: peak?.inFlight ?? 0,
      backlogAtBurstEnd,
      ...(drainObservedMs !== undefined && { drainObservedMs }),
    };
  });
}
