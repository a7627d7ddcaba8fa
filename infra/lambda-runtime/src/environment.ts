import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Writable } from "node:stream";
import type { InitializationType } from "./report.js";

interface EnvironmentOptions {
  /** The runtime's bootstrap (infra/lambda-runtime/dist/bootstrap.js). */
  bootstrapScript: string;
  /** The function module (worker/dist/lambda.js) and the export that handles events. */
  handlerModule: string;
  handlerName: string;
  functionName: string;
  memoryMb: number;
  /**
   * The environment's variables, complete: the function's configuration plus
   * the runtime's own (AWS_LAMBDA_*). Nothing is inherited from the stack
   * runner, as on Lambda — which also keeps its NODE_OPTIONS or
   * NODE_EXTRA_CA_CERTS (tens of ms of start-up) out of every cold start.
   */
  env: Record<string, string>;
  /** Longest the init phase may take, in ms (Lambda: 10 s). */
  initTimeoutMs: number;
  /** Where the environment's stdout and stderr go: the function's log. */
  log: Writable;
}

type EnvironmentState = "initializing" | "idle" | "busy" | "stopping" | "dead";

export type EnvironmentResult =
  | { ok: true; result: unknown; durationMs: number; maxMemoryUsedMb: number }
  | {
      ok: false;
      /** `error`: the handler threw (the environment lives on); `timeout` and `crash` end the environment. */
      kind: "error" | "timeout" | "crash";
      errorType: string;
      errorMessage: string;
      durationMs: number;
      maxMemoryUsedMb: number;
    };

/** The init phase failed: the module did not load, the handler is missing, or it took too long. */
export class InitError extends Error {
  override readonly name = "InitError";
  constructor(
    readonly errorType: string,
    message: string,
    readonly initDurationMs: number,
  ) {
    super(message);
  }
}

interface Pending {
  requestId: string;
  startedAt: number;
  resolve: (result: EnvironmentResult) => void;
  timer: NodeJS.Timeout;
}

type ChildMessage =
  | { type: "ready"; bootMs: number; loadMs: number }
  | { type: "init-error"; errorType: string; errorMessage: string }
  | {
      type: "result";
      requestId: string;
      ok: boolean;
      result?: unknown;
      errorType?: string;
      errorMessage?: string;
      maxMemoryUsedMb: number;
    };

/** AWS names a log stream `yyyy/mm/dd/[$LATEST]<32 hex>`: one per execution environment. */
function logStreamName(now = new Date()): string {
  const date = now.toISOString().slice(0, 10).replaceAll("-", "/");
  return `${date}/[$LATEST]${randomBytes(16).toString("hex")}`;
}

/**
 * One execution environment: a child process running the bootstrap, one invocation at a time; a
 * timeout or a dead process ends it, as on Lambda. Init Duration runs from spawn to "ready".
 */
export class ExecutionEnvironment extends EventEmitter<{ exit: [{ code: number | null; signal: string | null }] }> {
  readonly id = logStreamName();
  readonly createdAtMs = Date.now();
  #state: EnvironmentState = "initializing";
  #child: ChildProcess | undefined;
  #pending: Pending | undefined;
  #exited: Promise<void> | undefined;
  #maxMemoryUsedMb = 0;
  /** Spawn → ready, in ms. Set once the environment is ready. */
  initDurationMs: number | undefined;
  /** What the bootstrap reported: Node's start-up before the bootstrap ran, and the module load. */
  initPhases: { nodeStartMs: number; handlerLoadMs: number } | undefined;
  lastUsedAtMs = Date.now();
  invocations = 0;

  constructor(
    /** Provisioned environments that are deprovisioned while busy finish as on-demand ones. */
    public initializationType: InitializationType,
    readonly options: EnvironmentOptions,
  ) {
    super();
  }

  get state(): EnvironmentState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process and resolves once the handler module is loaded; rejects with an InitError. */
  start(): Promise<void> {
    const o = this.options;
    const startedAt = performance.now();
    const child = fork(o.bootstrapScript, [o.handlerModule, o.handlerName], {
      env: { ...o.env, AWS_LAMBDA_LOG_STREAM_NAME: this.id },
      // Lambda sizes Node's heap from the function's memory; so does this.
      execArgv: [`--max-old-space-size=${Math.max(64, Math.floor(o.memoryMb * 0.9))}`],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    this.#child = child;
    child.stdout?.pipe(o.log, { end: false });
    child.stderr?.pipe(o.log, { end: false });
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#state = "dead";
        const pending = this.#pending;
        if (pending) {
          this.#pending = undefined;
          clearTimeout(pending.timer);
          pending.resolve({
            ok: false,
            kind: "crash",
            errorType: "Runtime.ExitError",
            errorMessage: `RequestId: ${pending.requestId} Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`,
            durationMs: performance.now() - pending.startedAt,
            maxMemoryUsedMb: this.#maxMemoryUsedMb,
          });
        }
        this.emit("exit", { code, signal });
        resolve();
      });
    });
    child.on("error", () => {
      // 'exit' follows and settles whatever was waiting.
    });
    child.on("message", (message: ChildMessage) => this.#onMessage(message));

    return new Promise<void>((resolve, reject) => {
      const fail = (errorType: string, message: string) => {
        cleanup();
        const elapsed = performance.now() - startedAt;
        this.kill("SIGKILL");
        reject(new InitError(errorType, message, elapsed));
      };
      const timer = setTimeout(
        () => fail("Runtime.InitTimeout", `init did not finish within ${o.initTimeoutMs} ms`),
        o.initTimeoutMs,
      );
      const onMessage = (message: ChildMessage) => {
        if (message?.type === "ready") {
          cleanup();
          this.initDurationMs = performance.now() - startedAt;
          this.initPhases = { nodeStartMs: message.bootMs, handlerLoadMs: message.loadMs };
          this.#state = "idle";
          this.lastUsedAtMs = Date.now();
          resolve();
        } else if (message?.type === "init-error") {
          fail(message.errorType, message.errorMessage);
        }
      };
      const onExit = (code: number | null, signal: string | null) =>
        fail(
          "Runtime.ExitError",
          `Runtime exited during init ${signal ? `with signal: ${signal}` : `with status ${code}`}`,
        );
      const cleanup = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  }

  /**
   * Runs one invocation. Never rejects: the result says how it ended. The
   * environment must be idle; the caller (the function) guarantees that.
   */
  invoke(requestId: string, event: unknown, timeoutMs: number): Promise<EnvironmentResult> {
    const child = this.#child;
    if (this.#state !== "idle" || !child?.connected) {
      throw new Error(`environment ${this.id} is ${this.#state}, not idle`);
    }
    this.#state = "busy";
    this.invocations++;
    const startedAt = performance.now();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#pending?.requestId !== requestId) return;
        this.#pending = undefined;
        // Lambda stops a timed-out invocation by resetting its environment: the next one starts cold.
        this.kill("SIGKILL");
        resolve({
          ok: false,
          kind: "timeout",
          errorType: "Sandbox.Timedout",
          errorMessage: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          durationMs: performance.now() - startedAt,
          maxMemoryUsedMb: this.#maxMemoryUsedMb,
        });
      }, timeoutMs);
      this.#pending = { requestId, startedAt, resolve, timer };
      child.send({
        type: "invoke",
        requestId,
        event,
        deadlineMs: Date.now() + timeoutMs,
        functionName: this.options.functionName,
        memoryMb: this.options.memoryMb,
        logStream: this.id,
      });
    });
  }

  #onMessage(message: ChildMessage): void {
    if (message?.type !== "result") return;
    const pending = this.#pending;
    if (!pending || pending.requestId !== message.requestId) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    const durationMs = performance.now() - pending.startedAt;
    this.#maxMemoryUsedMb = Math.max(this.#maxMemoryUsedMb, message.maxMemoryUsedMb);
    this.lastUsedAtMs = Date.now();
    if (this.#state === "busy") this.#state = "idle";
    pending.resolve(
      message.ok
        ? { ok: true, result: message.result, durationMs, maxMemoryUsedMb: this.#maxMemoryUsedMb }
        : {
            ok: false,
            kind: "error",
            errorType: message.errorType ?? "Error",
            errorMessage: message.errorMessage ?? "",
            durationMs,
            maxMemoryUsedMb: this.#maxMemoryUsedMb,
          },
    );
  }

  /** Sends a signal to the environment's process (idle expiry, chaos tests). */
  kill(signal: NodeJS.Signals): boolean {
    // A busy environment stays busy until its process is gone: its invocation then ends as a crash.
    if (this.#state === "idle" || this.#state === "initializing") this.#state = "stopping";
    return this.#child?.kill(signal) ?? false;
  }

  /** Ends the environment: SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.#child || this.#state === "dead") return;
    this.#state = "stopping";
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child?.kill("SIGKILL"), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
