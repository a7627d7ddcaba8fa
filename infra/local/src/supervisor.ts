import { type ChildProcess, fork } from "node:child_process";
import { EventEmitter } from "node:events";
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { FleetState } from "@surge/api/fleet/types";
import { TASK_CONCURRENCY_MAX, TASK_CONCURRENCY_MIN } from "@surge/core";

export interface SupervisorOptions {
  /** The worker bundle to run (worker/dist/main.js). */
  script: string;
  /** Environment every task gets (TASK_ID, WORKER_CONCURRENCY and METRICS_PORT are added per task). */
  env: NodeJS.ProcessEnv;
  /** Tasks to keep running. */
  desiredCount: number;
  /** Per-task concurrency (WORKER_CONCURRENCY), changed live over IPC. */
  concurrency: number;
  /** Where each task's stdout/stderr is appended (`worker-<id>.log`). */
  logDir: string;
  /** Prometheus file_sd targets file, rewritten as tasks come and go. Optional. */
  targetsFile?: string;
  /** Time a task gets between SIGTERM and SIGKILL, in ms. Default 30000. */
  stopTimeoutMs?: number;
  /** First restart delay after a crash, in ms; doubles per quick crash. Default 1000. */
  restartBaseDelayMs?: number;
  /** Longest restart delay, in ms. Default 30000. */
  restartMaxDelayMs?: number;
  /** A task that ran at least this long before dying resets the crash backoff, in ms. Default 10000. */
  healthyAfterMs?: number;
  /**
   * Tasks starting (pending) at once; a scale-out beyond it starts the rest as these become ready.
   * Default 4: each start costs about a CPU-second, and forty at once starve the running tasks.
   */
  maxPendingTasks?: number;
}

type TaskStatus = "pending" | "running" | "stopping";

export interface TaskInfo {
  taskId: string;
  pid: number | undefined;
  status: TaskStatus;
  startedAt: string;
  inFlight: number;
  processed: number;
  /** The task's payment circuit breaker: closed, open or half-open. */
  circuit?: string;
  metricsPort?: number;
}

/** The supervisor's view of its fleet: the api's FleetState, each task as the supervisor knows it. */
export type FleetSnapshot = FleetState<TaskInfo>;

interface Task extends TaskInfo {
  child: ChildProcess;
  startedAtMs: number;
  exited: Promise<void>;
}

interface SupervisorEvents {
  "task-started": [TaskInfo];
  "task-ready": [TaskInfo];
  "task-exited": [{ taskId: string; code: number | null; signal: NodeJS.Signals | null; expected: boolean }];
  change: [FleetSnapshot];
}

/**
 * The local stand-in for an ECS service scheduler: keeps `desiredCount` worker
 * processes running, stops surplus ones gracefully (SIGTERM, then SIGKILL after
 * the stop timeout), replaces tasks that die — with exponential backoff so a
 * crash loop does not spin — and reports desired / running / pending.
 */
export class TaskSupervisor extends EventEmitter<SupervisorEvents> {
  readonly #options: Required<Omit<SupervisorOptions, "targetsFile">> & { targetsFile?: string | undefined };
  readonly #tasks = new Map<string, Task>();
  #desired: number;
  #concurrency: number;
  #seq = 0;
  #restarts = 0;
  #quickCrashes = 0;
  #nextStartAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    super();
    this.#options = {
      stopTimeoutMs: 30_000,
      restartBaseDelayMs: 1000,
      restartMaxDelayMs: 30_000,
      healthyAfterMs: 10_000,
      maxPendingTasks: 4,
      ...options,
    };
    this.#desired = options.desiredCount;
    this.#concurrency = options.concurrency;
    mkdirSync(options.logDir, { recursive: true });
  }

  start(): void {
    this.#timer = setInterval(() => this.#reconcile(), 500);
    this.#timer.unref();
    this.#reconcile();
  }

  get desiredCount(): number {
    return this.#desired;
  }

  setDesiredCount(count: number): void {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`desiredCount must be an integer ≥ 0, got ${count}`);
    if (this.#closing) throw new Error("the supervisor is shutting down");
    this.#desired = count;
    this.#reconcile();
  }

  get concurrency(): number {
    return this.#concurrency;
  }

  /** Changes every running task's concurrency live, without a restart; new tasks start with it. */
  setConcurrency(concurrency: number): void {
    if (!Number.isInteger(concurrency) || concurrency < TASK_CONCURRENCY_MIN || concurrency > TASK_CONCURRENCY_MAX) {
      throw new RangeError(
        `concurrency must be an integer in ${TASK_CONCURRENCY_MIN}..${TASK_CONCURRENCY_MAX}, got ${concurrency}`,
      );
    }
    this.#concurrency = concurrency;
    for (const task of this.#tasks.values()) {
      if (task.child.connected) task.child.send({ type: "set-concurrency", concurrency });
    }
    this.#changed();
  }

  snapshot(): FleetSnapshot {
    const tasks = [...this.#tasks.values()].map(
      ({ taskId, pid, status, startedAt, inFlight, processed, metricsPort, circuit }): TaskInfo => ({
        taskId,
        pid,
        status,
        startedAt,
        inFlight,
        processed,
        ...(metricsPort !== undefined && { metricsPort }),
        ...(circuit !== undefined && { circuit }),
      }),
    );
    return {
      desiredCount: this.#desired,
      running: tasks.filter((t) => t.status === "running").length,
      pending: tasks.filter((t) => t.status === "pending").length,
      stopping: tasks.filter((t) => t.status === "stopping").length,
      concurrency: this.#concurrency,
      restarts: this.#restarts,
      tasks,
    };
  }

  /** Sends a signal to one task (chaos tests, `kill -9`). The scheduler replaces it if it dies. */
  signalTask(taskId: string, signal: NodeJS.Signals): boolean {
    const task = this.#tasks.get(taskId);
    return task?.child.kill(signal) ?? false;
  }

  /**
   * Stops every task; idempotent. Payments in flight still finish, but with SIGINT, not the
   * scale-in's SIGTERM: the whole stack is going, queue included, so a task aborts its long poll
   * instead of waiting up to 20 s for it to come back.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer) clearInterval(this.#timer);
      this.#desired = 0;
      await Promise.all([...this.#tasks.values()].map((t) => this.#stop(t, "SIGINT")));
    })();
    return this.#closing;
  }

  #reconcile(): void {
    if (this.#closing && this.#desired > 0) return;
    const live = [...this.#tasks.values()].filter((t) => t.status !== "stopping");
    if (live.length > this.#desired) {
      // Stop the least busy (and, among equals, the newest) first: fewer orders handed back.
      const surplus = live
        .sort((a, b) => a.inFlight - b.inFlight || b.startedAtMs - a.startedAtMs)
        .slice(0, live.length - this.#desired);
      for (const task of surplus) void this.#stop(task);
    } else if (live.length < this.#desired && Date.now() >= this.#nextStartAt) {
      const pending = live.filter((t) => t.status === "pending").length;
      const starts = Math.min(this.#desired - live.length, this.#options.maxPendingTasks - pending);
      for (let i = 0; i < starts; i++) this.#startTask();
    }
  }

  #startTask(): void {
    const taskId = `w${++this.#seq}`;
    const log = createWriteStream(join(this.#options.logDir, `worker-${taskId}.log`), { flags: "a" });
    const child = fork(this.#options.script, [], {
      env: {
        ...this.#options.env,
        TASK_ID: taskId,
        WORKER_CONCURRENCY: String(this.#concurrency),
        METRICS_PORT: "0",
        METRICS_HOST: "127.0.0.1",
      },
      // The worker is a bundle: never the parent's loader flags (`--import tsx` under a TS runner).
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const now = Date.now();
    const task: Task = {
      taskId,
      pid: child.pid,
      status: "pending",
      startedAt: new Date(now).toISOString(),
      startedAtMs: now,
      inFlight: 0,
      processed: 0,
      child,
      exited: new Promise((resolve) => child.once("exit", () => resolve())),
    };
    this.#tasks.set(taskId, task);
    child.on(
      "message",
      (msg: { type?: string; metricsPort?: number; inFlight?: number; processed?: number; circuit?: string }) => {
        if (msg?.type === "ready") {
          task.status = task.status === "stopping" ? "stopping" : "running";
          task.metricsPort = msg.metricsPort;
          // The task may have started before the latest concurrency change reached it.
          if (child.connected) child.send({ type: "set-concurrency", concurrency: this.#concurrency });
          this.emit("task-ready", task);
          this.#changed();
          this.#reconcile(); // a start slot is free: the next task of a scale-out can start
        } else if (msg?.type === "stats") {
          task.inFlight = msg.inFlight ?? task.inFlight;
          task.processed = msg.processed ?? task.processed;
          if (typeof msg.circuit === "string") task.circuit = msg.circuit;
        }
      },
    );
    child.once("exit", (code, signal) => {
      log.end();
      this.#tasks.delete(taskId);
      const expected = task.status === "stopping";
      if (!expected) {
        this.#restarts++;
        const ranMs = Date.now() - task.startedAtMs;
        this.#quickCrashes = ranMs >= this.#options.healthyAfterMs ? 1 : this.#quickCrashes + 1;
        const delay = Math.min(
          this.#options.restartMaxDelayMs,
          this.#options.restartBaseDelayMs * 2 ** (this.#quickCrashes - 1),
        );
        this.#nextStartAt = Date.now() + (this.#quickCrashes > 1 ? delay : 0);
      }
      this.emit("task-exited", { taskId, code, signal, expected });
      this.#changed();
      if (!this.#closing) setTimeout(() => this.#reconcile(), Math.max(0, this.#nextStartAt - Date.now())).unref();
    });
    child.on("error", () => {
      // 'exit' follows and handles the replacement.
    });
    this.emit("task-started", task);
    this.#changed();
  }

  /** SIGTERM (scale-in, as ECS stops a task) drains the task's long poll; SIGINT aborts it. */
  async #stop(task: Task, signal: "SIGTERM" | "SIGINT" = "SIGTERM"): Promise<void> {
    if (task.status !== "stopping") {
      task.status = "stopping";
      task.child.kill(signal);
      this.#changed();
    } else if (signal === "SIGINT") {
      task.child.kill(signal); // a task already draining after a scale-in: stop waiting for its poll
    }
    const timer = setTimeout(() => task.child.kill("SIGKILL"), this.#options.stopTimeoutMs);
    await task.exited;
    clearTimeout(timer);
  }

  #changed(): void {
    const snapshot = this.snapshot();
    if (this.#options.targetsFile) writeTargets(this.#options.targetsFile, snapshot);
    this.emit("change", snapshot);
  }
}

/** Prometheus file_sd: one target per task that has reported its metrics port. */
function writeTargets(file: string, snapshot: FleetSnapshot): void {
  const targets = snapshot.tasks
    .filter((t) => t.metricsPort !== undefined && t.status !== "pending")
    // `task` as a target label as well: the scrape's own `up` series then names the task (its other
    // series carry the same label from the task itself).
    .map((t) => ({ targets: [`127.0.0.1:${t.metricsPort}`], labels: { task: t.taskId } }));
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(targets, null, 2)}\n`);
  renameSync(tmp, file); // atomic: Prometheus never reads a half-written file
}
