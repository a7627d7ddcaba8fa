import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { LOCAL_DEFAULTS, renderPrometheusConfig } from "@surge/grafana/prometheus";

/** The Lambda runtime's metrics port when LAMBDA_CONTROL_PORT is not given. */
export const DEFAULT_LAMBDA_METRICS_PORT = 4581;

/** The executable `name` on PATH, or undefined. */
export function findOnPath(name: string, path: string = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface PrometheusFilesOptions {
  /** DATA_DIR/prometheus: the config, its rules, the alerts token and the workers targets file live together. */
  dir: string;
  apiPort: number;
  lambdaPort: number;
  /** Rule files by path relative to `dir` (`rules/surge-alerts.yml` → its YAML). */
  rules: ReadonlyMap<string, string>;
  /** Default 5 s (the committed config's). Tests use 1 s. */
  scrapeIntervalSeconds?: number;
  evaluationIntervalSeconds?: number;
}

/**
 * Writes prometheus.yml, the rule files and `alerts.token` (the read-only token for POST /ops/alerts)
 * into one directory with relative paths, so the compose file can mount it as is. The token is kept
 * across runs: a running Grafana keeps working after a restart.
 */
export function writePrometheusFiles(options: PrometheusFilesOptions): { configFile: string; alertsToken: string } {
  mkdirSync(join(options.dir, "rules"), { recursive: true });
  const tokenFile = join(options.dir, "alerts.token");
  let alertsToken: string;
  try {
    alertsToken = readFileSync(tokenFile, "utf8").trim();
    if (alertsToken.length < 16) throw new Error("too short");
  } catch {
    alertsToken = randomBytes(24).toString("base64url");
    // No trailing newline: Grafana's $__file{} and Prometheus' credentials_file take the bytes as they are.
    writeFileSync(tokenFile, alertsToken, { mode: 0o600 });
  }
  for (const [path, content] of options.rules) writeFileSync(join(options.dir, path), content);
  const configFile = join(options.dir, "prometheus.yml");
  writeFileSync(
    configFile,
    renderPrometheusConfig({
      ...LOCAL_DEFAULTS,
      apiTarget: `127.0.0.1:${options.apiPort}`,
      lambdaTarget: `127.0.0.1:${options.lambdaPort}`,
      ruleFiles: [...options.rules.keys()],
      scrapeIntervalSeconds: options.scrapeIntervalSeconds ?? LOCAL_DEFAULTS.scrapeIntervalSeconds,
      evaluationIntervalSeconds: options.evaluationIntervalSeconds ?? LOCAL_DEFAULTS.evaluationIntervalSeconds,
      alerts: { apiTarget: `127.0.0.1:${options.apiPort}`, credentialsFile: "alerts.token" },
    }),
  );
  return { configFile, alertsToken };
}

/** The committed rule files (generated from grafana/src/prometheus), keyed as the config names them. */
export function committedRules(repoRoot: string): Map<string, string> {
  const rules = new Map<string, string>();
  for (const path of LOCAL_DEFAULTS.ruleFiles) {
    rules.set(path, readFileSync(join(repoRoot, "grafana/prometheus", path), "utf8"));
  }
  return rules;
}

interface PrometheusProcessOptions {
  binary: string;
  configFile: string;
  /** TSDB directory. */
  storageDir: string;
  port: number;
  /** Where Prometheus' own log is appended. */
  logFile: string;
  /** Default 2d: a laptop keeps a couple of days of flash sales, not months. */
  retention?: string;
  /** Time to wait for /-/ready, in ms. Default 30000. */
  readyTimeoutMs?: number;
}

export interface PrometheusProcess {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** The cause in Prometheus' last error log line (`err="listen tcp …: address already in use"`), or its last line. */
export function lastError(log: string): string {
  const newestFirst = log.trim().split("\n").reverse();
  for (const line of newestFirst) {
    const err = /\berr="((?:[^"\\]|\\.)*)"/.exec(line);
    if (err?.[1]) return err[1].replace(/\\"/g, '"');
  }
  return newestFirst[0] || "no output";
}

/** Runs Prometheus on 127.0.0.1:`port` and resolves once it answers /-/ready. */
export async function startPrometheus(options: PrometheusProcessOptions): Promise<PrometheusProcess> {
  mkdirSync(options.storageDir, { recursive: true });
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child: ChildProcess = spawn(
    options.binary,
    [
      `--config.file=${options.configFile}`,
      `--storage.tsdb.path=${options.storageDir}`,
      `--storage.tsdb.retention.time=${options.retention ?? "2d"}`,
      // Loopback only: the local stack is not a service for the network.
      `--web.listen-address=127.0.0.1:${options.port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      log.end();
      resolve();
    }),
  );
  child.on("error", (error) => keep(Buffer.from(String(error))));
  const url = `http://127.0.0.1:${options.port}`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      // Prometheus flushes its head block on SIGTERM; give it time before forcing.
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `prometheus exited during start-up (${child.exitCode ?? child.signalCode}): ${lastError(tail)}\n${tail.trim()}`,
      );
    }
    try {
      // Bounded: whatever else holds the port may accept and never answer.
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready on ${url}:\n${tail.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid, stop };
}
