import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { basename, dirname } from "node:path";
import { Writable } from "node:stream";
import { type EnvironmentResult, ExecutionEnvironment, InitError } from "./environment.js";
import {
  billedDurationMs,
  endLine,
  type InitializationType,
  type LambdaReport,
  ms2,
  reportLine,
  startLine,
} from "./report.js";
import { type LambdaWindowSummary, summarize } from "./summary.js";

export interface LocalLambdaOptions {
  /** Default "surge-orders". */
  functionName?: string;
  /** The function module (worker/dist/lambda.js). */
  handlerModule: string;
  /** The export that handles events ("snsHandler"). */
  handlerName: string;
  /** The runtime's bootstrap (infra/lambda-runtime/dist/bootstrap.js). */
  bootstrapScript: string;
  /** Memory size, in MB (128..10240). Default 512, the study's. */
  memoryMb?: number;
  /** Invocation timeout, in seconds. Default 30, the study's. */
  timeoutSeconds?: number;
  /**
   * Reserved concurrency: invocations running at once (each in its own
   * environment). Beyond it an invocation is throttled. Default 10.
   */
  reservedConcurrency?: number;
  /** How long an idle environment stays warm before it is shut down, in ms. Default 300000 (5 min). */
  idleTimeoutMs?: number;
  /** Longest an environment's init may take, in ms. Default 10000, Lambda's. */
  initTimeoutMs?: number;
  /** The function's environment variables (its configuration). */
  environment?: Record<string, string>;
  /** The function's log (environments' output, START/END/REPORT lines), appended. Default: discarded. */
  logFile?: string;
  /** REPORTs kept in memory for summaries and `reports()`. Default 50000 (a few MB). */
  reportHistory?: number;
  /**
   * Provisioned concurrency (LAMBDA_PROVISIONED_CONCURRENCY): environments initialised ahead of
   * time and kept warm, never expired; 0..reservedConcurrency. Default 0.
   */
  provisionedConcurrency?: number;
}

/** Lambda's answer to an invocation beyond the function's concurrency (HTTP 429). */
export class TooManyRequestsError extends Error {
  override readonly name = "TooManyRequestsException";
  constructor(functionName: string, reservedConcurrency: number) {
    super(`Rate Exceeded: ${functionName} is at its reserved concurrency (${reservedConcurrency})`);
  }
}

export interface InvocationResult {
  requestId: string;
  ok: boolean;
  /** What the handler returned. */
  result?: unknown;
  /** The thrown error's name, Sandbox.Timedout, Runtime.ExitError, Runtime.ImportModuleError… */
  errorType?: string;
  errorMessage?: string;
  report: LambdaReport;
}

interface EnvironmentView {
  id: string;
  pid: number | undefined;
  state: string;
  createdAt: string;
  lastUsedAt: string;
  invocations: number;
  /** AWS_LAMBDA_INITIALIZATION_TYPE: kept warm by provisioned concurrency, or started for an invocation. */
  initializationType: InitializationType;
  initDurationMs?: number;
  initPhases?: { nodeStartMs: number; handlerLoadMs: number };
}

interface FunctionEvents {
  report: [LambdaReport];
  throttle: [{ atMs: number }];
  "environment-started": [{ id: string; initDurationMs: number; initializationType: InitializationType }];
  "environment-ended": [
    { id: string; reason: "idle" | "timeout" | "crash" | "init-failed" | "deprovisioned" | "shutdown" },
  ];
}

/**
 * A local Lambda function: environments reused warm, started cold, expired when idle, never more
 * than the reserved concurrency (beyond it TooManyRequestsError; AsyncInvoker retries).
 */
export class LocalLambdaFunction extends EventEmitter<FunctionEvents> {
  readonly functionName: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  /** As Lambda names it: `<module>.<export>` ("lambda.snsHandler"). */
  readonly handler: string;
  #reservedConcurrency: number;
  readonly #options: LocalLambdaOptions;
  readonly #environments = new Set<ExecutionEnvironment>();
  readonly #idleTimers = new Map<ExecutionEnvironment, NodeJS.Timeout>();
  readonly #reports: LambdaReport[] = [];
  readonly #throttleTimes: number[] = [];
  readonly #historyLimit: number;
  /** The function's log file, when it has one; environments write to `#log` either way. */
  readonly #logFile: WriteStream | undefined;
  readonly #log: Writable;
  /** Environments kept warm by provisioned concurrency (initialising or ready). */
  readonly #provisioned = new Set<ExecutionEnvironment>();
  #provisionedConcurrency = 0;
  /** What the runtime started with (LAMBDA_PROVISIONED_CONCURRENCY): where `resetProvisionedConcurrency` returns. */
  readonly baseProvisionedConcurrency: number;
  #active = 0;
  #closing: Promise<void> | undefined;
  /** Since the runtime started; `provisioned` counts invocations served by a provisioned environment (also in `warm`). */
  readonly totals = { cold: 0, warm: 0, provisioned: 0, errors: 0, throttles: 0 };

  constructor(options: LocalLambdaOptions) {
    super();
    this.#options = options;
    this.functionName = options.functionName ?? "surge-orders";
    this.handler = `${basename(options.handlerModule).replace(/\.[cm]?js$/, "")}.${options.handlerName}`;
    this.memoryMb = options.memoryMb ?? 512;
    if (!Number.isInteger(this.memoryMb) || this.memoryMb < 128 || this.memoryMb > 10_240) {
      throw new RangeError(`memoryMb must be an integer in 128..10240, got ${this.memoryMb}`);
    }
    this.timeoutMs = (options.timeoutSeconds ?? 30) * 1000;
    if (!(this.timeoutMs >= 1000 && this.timeoutMs <= 900_000)) {
      throw new RangeError(`timeoutSeconds must be in 1..900, got ${options.timeoutSeconds}`);
    }
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    if (!(this.idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs must be > 0, got ${this.idleTimeoutMs}`);
    this.#reservedConcurrency = validateConcurrency(options.reservedConcurrency ?? 10);
    this.#historyLimit = options.reportHistory ?? 50_000;
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      this.#logFile = createWriteStream(options.logFile, { flags: "a" });
    }
    this.#log = this.#logFile ?? new Writable({ write: (_chunk, _encoding, done) => done() });
    // Every live execution environment pipes its stdout and stderr here (each pipe listens for the
    // stream's close/error/finish/unpipe): up to twice the reserved concurrency, which changes at run
    // time. Node's default of 10 printed a "memory leak" warning on the terminal at 6 environments.
    this.#log.setMaxListeners(0);
    this.baseProvisionedConcurrency = this.#validateProvisioned(options.provisionedConcurrency ?? 0);
    this.#provisionedConcurrency = this.baseProvisionedConcurrency;
    this.#reconcileProvisioned();
  }

  /** Provisioned concurrency configured now: environments kept initialised ahead of invocations. */
  get provisionedConcurrency(): number {
    return this.#provisionedConcurrency;
  }

  /**
   * Sets provisioned concurrency: missing environments start initialising now (in the background),
   * extra idle ones stop, extra busy ones finish as on-demand environments. Like AWS, it must not
   * exceed the reserved concurrency.
   */
  setProvisionedConcurrency(value: number): void {
    if (this.#closing) throw new Error(`function ${this.functionName} is shut down`);
    this.#provisionedConcurrency = this.#validateProvisioned(value);
    this.#reconcileProvisioned();
  }

  /** Back to the runtime's own setting (LAMBDA_PROVISIONED_CONCURRENCY): what a sale window's end does. */
  resetProvisionedConcurrency(): void {
    this.setProvisionedConcurrency(Math.min(this.baseProvisionedConcurrency, this.#reservedConcurrency));
  }

  /** Provisioned environments: ready (initialised and idle or busy) and still initialising. */
  provisionedCounts(): { ready: number; initializing: number } {
    let ready = 0;
    let initializing = 0;
    for (const env of this.#provisioned) {
      if (env.state === "initializing") initializing++;
      else if (env.state === "idle" || env.state === "busy") ready++;
    }
    return { ready, initializing };
  }

  #validateProvisioned(value: number): number {
    if (!Number.isInteger(value) || value < 0 || value > this.#reservedConcurrency) {
      throw new RangeError(
        `provisionedConcurrency must be an integer in 0..${this.#reservedConcurrency} (the reserved concurrency), got ${value}`,
      );
    }
    return value;
  }

  /** Starts or retires provisioned environments until their number matches the setting. */
  #reconcileProvisioned(): void {
    if (this.#closing) return;
    while (this.#provisioned.size > this.#provisionedConcurrency) {
      // Idle ones first; a busy one finishes its invocation as an on-demand environment.
      const extra =
        [...this.#provisioned].find((env) => env.state === "idle") ??
        [...this.#provisioned].find((env) => env.state === "initializing") ??
        [...this.#provisioned][0];
      if (!extra) break;
      this.#provisioned.delete(extra);
      if (extra.state === "idle" || extra.state === "initializing") {
        this.#environments.delete(extra);
        this.emit("environment-ended", { id: extra.id, reason: "deprovisioned" });
        void extra.stop();
      } else {
        extra.initializationType = "on-demand";
      }
    }
    while (this.#provisioned.size < this.#provisionedConcurrency) {
      const env = this.#newEnvironment("provisioned-concurrency");
      this.#provisioned.add(env);
      env.start().then(
        () => {
          if (!this.#provisioned.has(env)) return;
          this.emit("environment-started", {
            id: env.id,
            initDurationMs: env.initDurationMs ?? 0,
            initializationType: "provisioned-concurrency",
          });
        },
        () => {
          // A failed init is retried (a new environment), as AWS keeps provisioning; not in a tight loop.
          if (!this.#provisioned.delete(env)) return;
          this.#environments.delete(env);
          this.emit("environment-ended", { id: env.id, reason: "init-failed" });
          setTimeout(() => this.#reconcileProvisioned(), 1000).unref();
        },
      );
    }
  }

  get reservedConcurrency(): number {
    return this.#reservedConcurrency;
  }

  /** Takes effect for the next invocation; running ones finish. */
  set reservedConcurrency(value: number) {
    this.#reservedConcurrency = validateConcurrency(value);
    // Provisioned concurrency is part of the reserved: lowering the one below the other lowers both.
    if (this.#provisionedConcurrency > value) {
      this.#provisionedConcurrency = value;
      this.#reconcileProvisioned();
    }
  }

  /** Invocations running now, init included: what Lambda's ConcurrentExecutions counts. */
  get concurrentExecutions(): number {
    return this.#active;
  }

  environmentCounts(): { idle: number; busy: number } {
    let idle = 0;
    let busy = 0;
    for (const env of this.#environments) {
      if (env.state === "initializing" && this.#provisioned.has(env)) continue;
      if (env.state === "idle") idle++;
      else if (env.state === "busy" || env.state === "initializing") busy++;
    }
    return { idle, busy };
  }

  environments(): EnvironmentView[] {
    return [...this.#environments].map((env) => ({
      id: env.id,
      pid: env.pid,
      state: env.state,
      createdAt: new Date(env.createdAtMs).toISOString(),
      lastUsedAt: new Date(env.lastUsedAtMs).toISOString(),
      invocations: env.invocations,
      initializationType: env.initializationType,
      ...(env.initDurationMs !== undefined && { initDurationMs: ms2(env.initDurationMs) }),
      ...(env.initPhases && {
        initPhases: { nodeStartMs: ms2(env.initPhases.nodeStartMs), handlerLoadMs: ms2(env.initPhases.handlerLoadMs) },
      }),
    }));
  }

  /** Newest first. */
  reports(limit = 50): LambdaReport[] {
    return this.#reports.slice(-Math.max(0, limit)).reverse();
  }

  summary(window: { sinceMs: number; untilMs: number; binSeconds?: number }): LambdaWindowSummary {
    return summarize(this.#reports, this.#throttleTimes, window);
  }

  /**
   * Invokes synchronously (RequestResponse); rejects with TooManyRequestsError at the reserved
   * concurrency, and otherwise resolves with how it ended, a handler's error included.
   */
  invoke(event: unknown, options: { requestId?: string } = {}): Promise<InvocationResult> {
    if (this.#closing) return Promise.reject(new Error(`function ${this.functionName} is shut down`));
    if (this.#active >= this.#reservedConcurrency) {
      const atMs = Date.now();
      this.totals.throttles++;
      this.#throttleTimes.push(atMs);
      if (this.#throttleTimes.length > this.#historyLimit) this.#throttleTimes.shift();
      this.emit("throttle", { atMs });
      return Promise.reject(new TooManyRequestsError(this.functionName, this.#reservedConcurrency));
    }
    // Reserve the concurrency now, before any await, so two calls in one tick cannot both take the last slot.
    this.#active++;
    const requestId = options.requestId ?? randomUUID();
    const warm = this.#takeIdle();
    return this.#run(requestId, event, warm).finally(() => {
      this.#active--;
    });
  }

  /**
   * An idle provisioned environment first (what it is paid for), else the most recently used idle
   * on-demand one: the others then age out first, as on Lambda.
   */
  #takeIdle(): ExecutionEnvironment | undefined {
    let best: ExecutionEnvironment | undefined;
    for (const env of this.#provisioned) {
      if (env.state === "idle") {
        best = env;
        break;
      }
    }
    if (!best) {
      for (const env of this.#environments) {
        if (env.state === "idle" && (!best || env.lastUsedAtMs > best.lastUsedAtMs)) best = env;
      }
    }
    if (best) {
      clearTimeout(this.#idleTimers.get(best));
      this.#idleTimers.delete(best);
    }
    return best;
  }

  async #run(requestId: string, event: unknown, warm: ExecutionEnvironment | undefined): Promise<InvocationResult> {
    let env = warm;
    let initDurationMs: number | undefined;
    if (!env) {
      env = this.#newEnvironment();
      try {
        await env.start();
        initDurationMs = env.initDurationMs ?? 0;
        this.emit("environment-started", { id: env.id, initDurationMs, initializationType: "on-demand" });
      } catch (error) {
        this.#environments.delete(env);
        this.emit("environment-ended", { id: env.id, reason: "init-failed" });
        const init = error instanceof InitError ? error : new InitError("Runtime.Unknown", String(error), 0);
        return this.#settle(requestId, env, Date.now(), init.initDurationMs, {
          ok: false,
          kind: "crash",
          errorType: init.errorType,
          errorMessage: init.message,
          durationMs: 0,
          maxMemoryUsedMb: 0,
        });
      }
    }
    const startedAtMs = Date.now();
    this.#write(startLine(requestId));
    const result = await env.invoke(requestId, event, this.timeoutMs);
    return this.#settle(requestId, env, startedAtMs, initDurationMs, result);
  }

  #settle(
    requestId: string,
    env: ExecutionEnvironment,
    startedAtMs: number,
    initDurationMs: number | undefined,
    result: EnvironmentResult,
  ): InvocationResult {
    const endedAtMs = Date.now();
    const runtimeEnded = !result.ok && result.kind !== "error";
    const status = result.ok ? undefined : result.kind === "timeout" ? "timeout" : runtimeEnded ? "error" : undefined;
    const fields = {
      requestId,
      durationMs: ms2(result.durationMs),
      billedDurationMs: billedDurationMs(result.durationMs, initDurationMs),
      memorySizeMb: this.memoryMb,
      maxMemoryUsedMb: result.maxMemoryUsedMb,
      initDurationMs: initDurationMs === undefined ? undefined : ms2(initDurationMs),
      status,
      errorType: result.ok ? undefined : result.errorType,
    } as const;
    const line = reportLine(fields);
    if (!result.ok) {
      // What Lambda logs for a failed invocation, before END.
      this.#write(
        result.kind === "timeout"
          ? `${new Date(endedAtMs).toISOString()} ${requestId} Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`
          : `${new Date(endedAtMs).toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify({ errorType: result.errorType, errorMessage: result.errorMessage })}`,
      );
    }
    this.#write(endLine(requestId));
    this.#write(line);
    const report: LambdaReport = {
      requestId,
      functionName: this.functionName,
      environmentId: env.id,
      startedAtMs,
      endedAtMs,
      durationMs: fields.durationMs,
      billedDurationMs: fields.billedDurationMs,
      memorySizeMb: this.memoryMb,
      maxMemoryUsedMb: result.maxMemoryUsedMb,
      ...(fields.initDurationMs !== undefined && { initDurationMs: fields.initDurationMs }),
      start: initDurationMs === undefined ? "warm" : "cold",
      initializationType: env.initializationType,
      outcome: result.ok ? "success" : "error",
      ...(status && { status }),
      ...(!result.ok && { errorType: result.errorType, errorMessage: result.errorMessage }),
      line,
    };
    this.#reports.push(report);
    if (this.#reports.length > this.#historyLimit) this.#reports.shift();
    if (report.start === "cold") this.totals.cold++;
    else this.totals.warm++;
    if (report.initializationType === "provisioned-concurrency") this.totals.provisioned++;
    if (!result.ok) this.totals.errors++;
    this.emit("report", report);

    if (env.state === "idle") {
      // Provisioned environments stay warm for as long as they are provisioned.
      if (!this.#provisioned.has(env)) this.#scheduleExpiry(env);
    } else if (runtimeEnded && this.#environments.delete(env)) {
      // A timed-out or dead environment is not reused: the next invocation starts cold.
      env.kill("SIGKILL");
      this.emit("environment-ended", { id: env.id, reason: result.kind === "timeout" ? "timeout" : "crash" });
      if (this.#provisioned.delete(env)) this.#reconcileProvisioned();
    }
    return {
      requestId,
      ok: result.ok,
      ...(result.ok ? { result: result.result } : { errorType: result.errorType, errorMessage: result.errorMessage }),
      report,
    };
  }

  #newEnvironment(initializationType: InitializationType = "on-demand"): ExecutionEnvironment {
    const o = this.#options;
    const env = new ExecutionEnvironment(initializationType, {
      bootstrapScript: o.bootstrapScript,
      handlerModule: o.handlerModule,
      handlerName: o.handlerName,
      functionName: this.functionName,
      memoryMb: this.memoryMb,
      initTimeoutMs: o.initTimeoutMs ?? 10_000,
      log: this.#log,
      env: {
        // Lambda gives the runtime a PATH and its own variables; nothing else comes from the host.
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        TZ: ":UTC",
        LANG: "en_US.UTF-8",
        AWS_LAMBDA_FUNCTION_NAME: this.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.functionName}`,
        AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split(".")[0]}.x`,
        AWS_LAMBDA_INITIALIZATION_TYPE: initializationType,
        ...o.environment,
      },
    });
    env.once("exit", () => {
      // An environment that died while idle (killed, crashed between invocations) is forgotten.
      if (this.#environments.delete(env)) {
        clearTimeout(this.#idleTimers.get(env));
        this.#idleTimers.delete(env);
        if (env.state === "dead" && !this.#closing) this.emit("environment-ended", { id: env.id, reason: "crash" });
      }
      // A provisioned environment that died after its init is replaced, as Lambda keeps the
      // configured number ready; one whose init failed is retried a second later (#reconcileProvisioned).
      if (env.initDurationMs !== undefined && this.#provisioned.delete(env)) this.#reconcileProvisioned();
    });
    this.#environments.add(env);
    return env;
  }

  #scheduleExpiry(env: ExecutionEnvironment): void {
    const timer = setTimeout(() => {
      this.#idleTimers.delete(env);
      if (env.state !== "idle") return;
      this.#environments.delete(env);
      this.emit("environment-ended", { id: env.id, reason: "idle" });
      void env.stop();
    }, this.idleTimeoutMs);
    timer.unref();
    this.#idleTimers.set(env, timer);
  }

  /** Sends a signal to one environment (chaos: kill -9 mid-payment). */
  signalEnvironment(id: string, signal: NodeJS.Signals): boolean {
    for (const env of this.#environments) if (env.id === id) return env.kill(signal);
    return false;
  }

  #write(line: string): void {
    this.#log.write(`${line}\n`);
  }

  /** Shuts every environment down (SIGTERM, then SIGKILL); idempotent. Running invocations end as crashes. */
  close(graceMs = 2000): Promise<void> {
    this.#closing ??= (async () => {
      for (const timer of this.#idleTimers.values()) clearTimeout(timer);
      this.#idleTimers.clear();
      const envs = [...this.#environments];
      this.#environments.clear();
      this.#provisioned.clear();
      for (const env of envs) this.emit("environment-ended", { id: env.id, reason: "shutdown" });
      await Promise.allSettled(envs.map((env) => env.stop(graceMs)));
      await new Promise<void>((resolve) => (this.#logFile ? this.#logFile.end(resolve) : resolve()));
    })();
    return this.#closing;
  }
}

function validateConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new RangeError(`reservedConcurrency must be an integer in 1..1000, got ${value}`);
  }
  return value;
}
