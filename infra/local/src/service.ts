import { type ChildProcess, fork } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";

interface ServiceOptions {
  name: string;
  script: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Time between SIGTERM and SIGKILL on stop, in ms. Default 10000. */
  stopTimeoutMs?: number;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/**
 * One long-running child process of the local stack (the API, the console),
 * restarted with backoff when it dies, its output appended to `<name>.log`.
 */
export class Service {
  #child: ChildProcess | undefined;
  #stopping = false;
  #crashes = 0;
  #startedAt = 0;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(readonly options: ServiceOptions) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    const log = createWriteStream(join(this.options.logDir, `${this.options.name}.log`), { flags: "a" });
    this.#startedAt = Date.now();
    const child = fork(this.options.script, this.options.args ?? [], {
      env: this.options.env,
      // A bundle needs none of its parent's flags: a runner started with `--import tsx` (the study,
      // chaos and soak runs, tests) must not load tsx into every child, which more than doubles its memory.
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.on("error", () => {});
    child.once("exit", (code, signal) => {
      log.end();
      this.#child = undefined;
      this.options.onExit?.(code, signal);
      if (this.#stopping) return;
      this.#crashes = Date.now() - this.#startedAt > 10_000 ? 1 : this.#crashes + 1;
      const delay = this.#crashes > 1 ? Math.min(30_000, 500 * 2 ** this.#crashes) : 0;
      this.#restartTimer = setTimeout(() => this.start(), delay);
    });
    this.#child = child;
  }

  /** Sends a signal to the current process (chaos: kill -9 the API); it is restarted. */
  kill(signal: NodeJS.Signals): boolean {
    return this.#child?.kill(signal) ?? false;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), this.options.stopTimeoutMs ?? 10_000);
    await exited;
    clearTimeout(timer);
  }
}
