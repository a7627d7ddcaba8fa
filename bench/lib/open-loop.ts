/**
 * Open-loop load for the benchmarks: @surge/loadgen's arrival-rate burst (latency from the
 * scheduled arrival), run in a process of its own so the generator does not share an event loop
 * with the server it measures. The generator reports its own cost beside the figures: how late it
 * sent each request against its schedule, and the CPU it used.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ArrivalProcess, Burst, HttpOrderTarget, type LatencySummaryMs, type RateBurstSpec } from "@surge/loadgen";

export interface OpenLoopRun {
  /** The API's base URL: orders are POSTed to `{baseUrl}/orders/async`. */
  baseUrl: string;
  ratePerSecond: number;
  durationSeconds: number;
  /** Default "constant". */
  arrival?: ArrivalProcess;
  /** Arrivals beyond this many requests waiting are dropped and counted. Default 2000. */
  maxInFlight?: number;
  /** Default 10000. */
  timeoutMs?: number;
  /**
   * Connections the generator keeps (default 50, autocannon's closed loop's): an arrival finding
   * them all busy waits for one, and that wait counts in its latency.
   */
  connections?: number;
}

export interface OpenLoopResult {
  ratePerSecond: number;
  durationSeconds: number;
  sent: number;
  /** Answers received within the run (successes and failures). */
  requests: number;
  failures: number;
  dropped: number;
  abandoned: number;
  /** Answers per second over the run's duration. */
  achievedPerSecond: number;
  /** From the scheduled arrival to the answer: what a shopper feels. */
  latencyMs: LatencySummaryMs;
  /** From the send to the answer. */
  serviceTimeMs: LatencySummaryMs;
  /** How late the generator sent each request against its schedule. */
  scheduleLagMs: LatencySummaryMs;
  /** The generator's CPU over the run, in % of one core. */
  generatorCpuPercent: number;
  errors: Record<string, number>;
}

/** One open-loop run in this process (the child below runs it; tests may call it directly). */
export async function runOpenLoop(run: OpenLoopRun): Promise<OpenLoopResult> {
  const spec: RateBurstSpec = {
    model: "arrival-rate",
    mode: "async",
    ratePerSecond: run.ratePerSecond,
    durationSeconds: run.durationSeconds,
    arrival: run.arrival ?? "constant",
    maxInFlight: run.maxInFlight ?? 2000,
    timeoutMs: run.timeoutMs ?? 10_000,
  };
  const burst = new Burst({
    spec,
    target: new HttpOrderTarget(run.baseUrl, { userAgent: "surge-bench", connections: run.connections ?? 50 }),
    targetUrl: run.baseUrl,
    startedBy: "bench",
  });
  const cpu = process.cpuUsage();
  const wallStart = performance.now();
  const stats = await burst.start();
  const cpuUsed = process.cpuUsage(cpu);
  const wallMs = performance.now() - wallStart;
  return {
    ratePerSecond: run.ratePerSecond,
    durationSeconds: run.durationSeconds,
    sent: stats.sent,
    requests: stats.requests,
    failures: stats.failures,
    dropped: stats.dropped,
    abandoned: stats.abandoned,
    achievedPerSecond: stats.requests / run.durationSeconds,
    latencyMs: stats.latencyMs,
    serviceTimeMs: stats.serviceTimeMs,
    scheduleLagMs: stats.scheduleLagMs,
    generatorCpuPercent: ((cpuUsed.user + cpuUsed.system) / 1000 / wallMs) * 100,
    errors: stats.errors,
  };
}

/** The generator's process: one run at a time, asked for and answered over IPC. */
export interface OpenLoopGenerator {
  run(run: OpenLoopRun): Promise<OpenLoopResult>;
  stop(): Promise<void>;
}

type Reply = { id: number; result: OpenLoopResult } | { id: number; error: string };

export async function startOpenLoopProcess(): Promise<OpenLoopGenerator> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./open-loop-main.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`open-loop generator exited with ${code} before it was ready`)));
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (r: OpenLoopResult) => void; reject: (e: Error) => void }>();
  child.on("message", (reply: Reply) => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if ("error" in reply) w.reject(new Error(`open-loop generator: ${reply.error}`));
    else w.resolve(reply.result);
  });
  child.on("exit", (code) => {
    for (const w of waiting.values()) w.reject(new Error(`open-loop generator exited with ${code}`));
    waiting.clear();
  });
  return {
    run(run) {
      const id = nextId++;
      return new Promise<OpenLoopResult>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ id, run });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.disconnect();
      await exited;
    },
  };
}
