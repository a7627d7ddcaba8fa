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
  /** The last few KB of the child's output: why it died, for a start-up failure. */
  #tail = "";
  #exits = 0;
  #lastExit = "";

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
    const keep = (chunk: Buffer) => {
      this.#tail = (this.#tail + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("error", () => {});
    child.once("exit", (code, signal) => {
      log.end();
      this.#child = undefined;
      this.#exits++;
      this.#lastExit = signal ?? `exit ${code}`;
      this.options.onExit?.(code, signal);
      if (this.#stopping) return;
      this.#crashes = Date.now() - this.#startedAt > 10_000 ? 1 : this.#crashes + 1;
      const delay = this.#crashes > 1 ? Math.min(30_000, 500 * 2 ** this.#crashes) : 0;
      this.#restartTimer = setTimeout(() => this.start(), delay);
    });
    this.#child = child;
  }

  /**
   * Resolves once `ready()` says the child serves (polled every 100 ms); rejects when the child exits
   * first (with the reason from its output: EADDRINUSE, a bad variable…) or after `timeoutMs`. For
   * start-up: a child that cannot start is an error, not a restart loop behind a "running" banner.
   */
  async whenReady(ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const exitsBefore = this.#exits;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exits > exitsBefore) {
        const error: NodeJS.ErrnoException = new Error(
          `${this.options.name} exited during start-up (${this.#lastExit}): ${lastLine(this.#tail)}; ` +
            `see ${join(this.options.logDir, `${this.options.name}.log`)}`,
        );
        // A child that could not listen: the caller names the port and the variable that moves it.
        if (/EADDRINUSE/.test(this.#tail)) error.code = "EADDRINUSE";
        throw error;
      }
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.options.name} did not start within ${timeoutMs / 1000} s; see ${join(this.options.logDir, `${this.options.name}.log`)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
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

/**
 * Why a child died, from the end of its output: the first thrown error with its detail lines
 * ("Error: invalid configuration: RATE_LIMIT_…: …"), else a line naming an error code, else the last line.
 */
function lastLine(tail: string): string {
  const lines = tail.split("\n").map((l) => l.trim());
  const first = lines.findIndex((l) => /^\W*[A-Za-z]*Error(?: \[[^\]]+\])?: /.test(l));
  if (first >= 0) {
    const detail = [lines[first] as string];
    for (const l of lines.slice(first + 1)) {
      if (l === "" || l.startsWith("at ") || l.startsWith("{")) break;
      detail.push(l);
    }
    return detail.join(" ");
  }
  const named = lines.filter(Boolean);
  return named.find((l) => /\bE[A-Z]{3,}\b/.test(l)) ?? named.at(-1) ?? "no output";
}
