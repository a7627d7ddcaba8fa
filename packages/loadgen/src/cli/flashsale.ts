import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { errorMessage, ValidationError } from "@surge/core";
import {
  BURST_BOUNDS,
  BURST_MODES,
  BURST_PRESETS,
  Burst,
  type BurstMode,
  type BurstPreset,
  type BurstStats,
  formatLocustSummary,
  formatProgressLine,
  HttpOrderTarget,
  normaliseBaseUrl,
  parseBurstSpec,
  parseDurationSeconds,
  parseRatePerSecond,
  presetBody,
  QUEUE_THRESHOLD_METRICS,
  THRESHOLD_METRICS,
  type ThresholdMetric,
  type ThresholdResult,
  timelineCsv,
} from "../index.js";
import { type CliEnv, loadCliEnv } from "./env.js";

const USAGE = `Fire a flash-sale burst at a Surge API and print a Locust-shaped summary.

  npm run flashsale -- --users 20 --spawn-rate 10 --duration 60s --mode async
  npm run flashsale -- --rate 48/s --duration 60s --mode async
  npm run flashsale -- --rate 0 --stage 30s:100/s --stage 30s:100/s --threshold p99Ms=250
  npm run flashsale -- --preset spike --peak-rate 200/s --duration 2m --threshold drainSeconds=60

Load (one of):
  -u, --users N           Locust users (closed loop: order, think, repeat), at most 2000
  -r, --spawn-rate N      users started per second (default: all in 1 s)
      --rate R            arrival rate, open loop: 48, 48/s or 2880/m; at most 5000/s
                          (with --stage: the starting rate)
      --preset P          ramp | step | spike (arrival-rate shapes up to --peak-rate over
                          --duration) | study (20 users, spawn 10/s, think 100–500 ms)
Options:
      --stage D:R         a stage of a ramping arrival rate: reach rate R over duration D
                          (0s:R is a step); repeat it; the duration is their total
      --peak-rate R       the rate shapes' peak                     [100/s]
      --arrival A         constant | poisson                        [constant]
      --threshold M=MAX   an SLO gate, repeatable: p99Ms, failureRatio, oldestAgeSeconds
                          (the queue's oldest order, s), drainSeconds (queue empty after the load)
  -t, --duration D        60s, 2m, 1m30s (at most 10m)             [60s]
      --mode M            sync | async                              [async]
      --wait-min MS       think time lower bound, ms                [100]
      --wait-max MS       think time upper bound, ms                [500]
      --timeout D         a request slower than this fails          [60s]
      --max-in-flight N   arrival rate: drop arrivals beyond N waiting answers [2000]
      --url URL           the API                                   [$SURGE_API_URL or http://127.0.0.1:8080]
      --token T           operator token                            [$OPS_TOKEN]
      --direct            run the load in this process against --url (a local stack only),
                          not through the API's ops plane
      --fail-ratio F      exit 1 when failures ÷ requests is over F [0]
      --json FILE         write the final stats (with the per-second timeline) as JSON
      --csv FILE          write the per-second timeline as CSV
  -q, --quiet             no live progress line
  -h, --help

Through the ops plane (the default) the burst shows in the console, the audit log and
/metrics, and this summary is the API's own record of it. Exit codes: 0 ok, 1 failures
over --fail-ratio, 2 bad arguments, 3 the API refused or could not be reached,
4 an SLO gate (--threshold) failed.`;

/** Exit code of a burst that ran but breached one of its --threshold gates. */
export const EXIT_THRESHOLD_BREACHED = 4;

interface FlashsaleArgs {
  /** The burst body, exactly as POST /ops/bursts takes it. */
  body: Record<string, unknown>;
  url: string;
  token: string | undefined;
  direct: boolean;
  failRatio: number;
  jsonFile?: string;
  csvFile?: string;
  quiet: boolean;
}

/** A problem with the command line: printed with the usage, exit code 2. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Turns argv into a burst body and CLI settings. Bounds are checked by the same parser the API uses. */
function parseFlashsaleArgs(argv: ReadonlyArray<string>, env: CliEnv): FlashsaleArgs | "help" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const v = parsed.values;
  if (v.help) return "help";
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument: ${parsed.positionals[0]}`);
  const number = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${text}"`);
    return n;
  };
  const seconds = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    try {
      return parseDurationSeconds(text);
    } catch (error) {
      throw new UsageError(`--${name}: ${errorMessage(error)}`);
    }
  };
  const rate = (name: string, text: string): number => {
    try {
      return parseRatePerSecond(text);
    } catch (error) {
      throw new UsageError(`--${name}: ${errorMessage(error)}`);
    }
  };
  const users = number("users", v.users);
  const stages = (v.stage ?? []).map((text) => {
    const m = /^([^:]+):(.+)$/.exec(text);
    if (!m?.[1] || !m[2]) throw new UsageError(`--stage takes DURATION:RATE (30s:100/s), got "${text}"`);
    return { durationSeconds: seconds("stage", m[1]) ?? 0, ratePerSecond: rate("stage", m[2]) };
  });
  const mode = v.mode ?? "async";
  if (!(BURST_MODES as ReadonlyArray<string>).includes(mode))
    throw new UsageError(`--mode must be sync or async, got "${mode}"`);
  let body: Record<string, unknown>;
  if (v.preset !== undefined) {
    if (!(BURST_PRESETS as ReadonlyArray<string>).includes(v.preset)) {
      throw new UsageError(`--preset must be one of ${BURST_PRESETS.join(", ")}, got "${v.preset}"`);
    }
    if (users !== undefined || v.rate !== undefined || stages.length > 0) {
      throw new UsageError("--preset sets the load itself: drop --users, --rate and --stage");
    }
    body = presetBody(v.preset as BurstPreset, {
      mode: mode as BurstMode,
      peakRatePerSecond: v["peak-rate"] === undefined ? 100 : rate("peak-rate", v["peak-rate"]),
      durationSeconds: seconds("duration", v.duration) ?? 60,
    });
  } else if (stages.length > 0) {
    if (users !== undefined) throw new UsageError("--stage shapes an arrival rate: drop --users");
    body = { mode, stages, ...(v.rate !== undefined && { ratePerSecond: rate("rate", v.rate) }) };
  } else {
    body = { mode, durationSeconds: seconds("duration", v.duration) ?? 60 };
  }
  if (v.arrival !== undefined) body.arrival = v.arrival;
  const thresholds = (v.threshold ?? []).map((text) => {
    const m = /^(\w+)\s*(?:=|<=)\s*(.+)$/.exec(text);
    if (!m?.[1] || !m[2]) {
      throw new UsageError(`--threshold takes METRIC=MAX (${THRESHOLD_METRICS.join(", ")}), got "${text}"`);
    }
    return { metric: m[1], max: number("threshold", m[2]) };
  });
  if (thresholds.length > 0) body.thresholds = thresholds;
  const timeoutSeconds = seconds("timeout", v.timeout);
  if (timeoutSeconds !== undefined) body.timeoutMs = Math.round(timeoutSeconds * 1000);
  if (v.preset !== undefined || stages.length > 0) {
    const maxInFlight = number("max-in-flight", v["max-in-flight"]);
    if (maxInFlight !== undefined && body.users === undefined) body.maxInFlight = maxInFlight;
  } else if (v.rate !== undefined) {
    if (users !== undefined || v["spawn-rate"] !== undefined) {
      throw new UsageError("give --users (and --spawn-rate) or --rate, not both");
    }
    body.ratePerSecond = rate("rate", v.rate);
    const maxInFlight = number("max-in-flight", v["max-in-flight"]);
    if (maxInFlight !== undefined) body.maxInFlight = maxInFlight;
  } else {
    if (users === undefined) throw new UsageError("give --users N (Locust's user model) or --rate R (arrival rate)");
    body.users = users;
    body.spawnRate = number("spawn-rate", v["spawn-rate"]) ?? Math.min(users, BURST_BOUNDS.maxUsers);
    const waitMinMs = number("wait-min", v["wait-min"]);
    const waitMaxMs = number("wait-max", v["wait-max"]);
    if (waitMinMs !== undefined) body.waitMinMs = waitMinMs;
    if (waitMaxMs !== undefined) body.waitMaxMs = waitMaxMs;
  }
  // The API would say the same with a 400; saying it here saves the round trip and works with --direct.
  try {
    parseBurstSpec(body);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new UsageError(error.details.map((d) => `${d.field}: ${d.message}`).join("; "));
    }
    throw error;
  }
  const failRatio = number("fail-ratio", v["fail-ratio"]) ?? 0;
  if (failRatio < 0 || failRatio > 1) throw new UsageError("--fail-ratio must be in 0..1");
  let url: string;
  try {
    url = normaliseBaseUrl(v.url ?? env.SURGE_API_URL);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got "${v.url}"`);
  }
  const direct = v.direct ?? false;
  if (direct && !isLoopback(url)) {
    // Through the ops API a burst is authenticated, audited and locked to that deployment's own URL;
    // the in-process engine skips all that, so it only drives a stack on this machine.
    throw new UsageError(`--direct only drives a stack on this machine (loopback), not ${url}: drop --direct`);
  }
  const queueGates = thresholds.filter((t) => QUEUE_THRESHOLD_METRICS.has(t.metric as ThresholdMetric));
  if (direct && queueGates.length > 0) {
    throw new UsageError(
      `--threshold ${queueGates[0]?.metric} needs the API's order queue: drop --direct (or that threshold)`,
    );
  }
  return {
    body,
    url,
    token: v.token ?? env.OPS_TOKEN,
    direct,
    failRatio,
    ...(v.json !== undefined && { jsonFile: resolve(v.json) }),
    ...(v.csv !== undefined && { csvFile: resolve(v.csv) }),
    quiet: v.quiet ?? false,
  };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function parse(argv: ReadonlyArray<string>) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      users: { type: "string", short: "u" },
      "spawn-rate": { type: "string", short: "r" },
      rate: { type: "string" },
      duration: { type: "string", short: "t" },
      mode: { type: "string" },
      "wait-min": { type: "string" },
      "wait-max": { type: "string" },
      timeout: { type: "string" },
      "max-in-flight": { type: "string" },
      preset: { type: "string" },
      "peak-rate": { type: "string" },
      stage: { type: "string", multiple: true },
      arrival: { type: "string" },
      threshold: { type: "string", multiple: true },
      url: { type: "string" },
      token: { type: "string" },
      direct: { type: "boolean" },
      "fail-ratio": { type: "string" },
      json: { type: "string" },
      csv: { type: "string" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** The API refused the burst or could not be reached: exit code 3. */
class ApiError extends Error {
  override readonly name = "ApiError";
}

interface Io {
  out: (text: string) => void;
  err: NodeJS.WriteStream | { write(text: string): boolean; isTTY?: boolean };
  /** Resolves when the operator asks to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

/** Runs the burst through the API's ops plane: POST, watch every second, GET the final record. */
async function viaOpsApi(args: FlashsaleArgs, io: Io, progress: (s: BurstStats) => void): Promise<BurstStats> {
  if (!args.token) {
    throw new UsageError("the ops API needs the operator token: set OPS_TOKEN or pass --token (or use --direct)");
  }
  const headers = { authorization: `Bearer ${args.token}`, "content-type": "application/json" };
  const call = async (method: string, path: string, body?: unknown): Promise<BurstStats & { id: string }> => {
    let response: globalThis.Response;
    try {
      response = await fetch(`${args.url}/ops${path}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ApiError(`could not reach ${args.url}: ${errorMessage((error as { cause?: unknown }).cause ?? error)}`);
    }
    const text = await response.text();
    if (!response.ok) throw new ApiError(`${method} /ops${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as BurstStats & { id: string };
  };
  const { id } = await call("POST", "/bursts", args.body);
  let stopRequested = false;
  void io.interrupted.then(async () => {
    stopRequested = true;
    io.err.write(`\nstopping burst ${id}…\n`);
    await call("DELETE", `/bursts/${id}`).catch((error) => io.err.write(`${errorMessage(error)}\n`));
  });
  for (;;) {
    const stats = await call("GET", `/bursts/${id}`);
    // After the load, a burst with queue gates watches the queue drain before it decides them.
    const gatesPending = (stats.spec.thresholds?.length ?? 0) > 0 && !stats.thresholds;
    if (stats.status !== "running" && !stats.queue?.draining && !gatesPending) return stats;
    progress(stats);
    await new Promise((r) => setTimeout(r, stopRequested ? 200 : 1000));
  }
}

/** Runs the engine in this process against --url's order endpoints. */
async function direct(args: FlashsaleArgs, io: Io, progress: (s: BurstStats) => void): Promise<BurstStats> {
  const { target: _target, ...spec } = parseBurstSpec(args.body);
  const burst = new Burst({
    spec,
    target: new HttpOrderTarget(args.url, { userAgent: "surge-flashsale" }),
    targetUrl: args.url,
    startedBy: "cli",
  });
  const done = burst.start();
  const timer = setInterval(() => progress(burst.stats({ timeline: 1 })), 1000);
  void io.interrupted.then(() => {
    io.err.write("\nstopping…\n");
    void burst.stop();
  });
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

/** The whole CLI; returns the exit code. */
async function runFlashsale(argv: ReadonlyArray<string>, env: CliEnv, io: Io): Promise<number> {
  let args: FlashsaleArgs | "help";
  try {
    args = parseFlashsaleArgs(argv, env);
  } catch (error) {
    io.err.write(`flashsale: ${errorMessage(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === "help") {
    io.out(USAGE);
    return 0;
  }
  const tty = Boolean(io.err.isTTY) && !args.quiet;
  let lastPrinted = 0;
  const progress = (stats: BurstStats) => {
    if (args.quiet) return;
    if (tty) {
      io.err.write(`\r\x1b[K${formatProgressLine(stats)}`);
    } else if (stats.elapsedSeconds - lastPrinted >= 5) {
      // Not a terminal (CI, a pipe): a line every 5 s keeps the log readable.
      lastPrinted = stats.elapsedSeconds;
      io.err.write(`${formatProgressLine(stats)}\n`);
    }
  };
  let stats: BurstStats;
  try {
    stats = args.direct ? await direct(args, io, progress) : await viaOpsApi(args, io, progress);
  } catch (error) {
    io.err.write(`${tty ? "\n" : ""}flashsale: ${errorMessage(error)}\n`);
    return error instanceof UsageError ? 2 : 3;
  }
  if (tty) io.err.write("\n");
  io.out(formatLocustSummary(stats));
  if (args.jsonFile) writeFileSync(args.jsonFile, `${JSON.stringify(stats, null, 2)}\n`);
  if (args.csvFile) writeFileSync(args.csvFile, timelineCsv(stats.timeline));
  const failedGates = (stats.thresholds ?? []).filter((t) => !t.pass);
  if (stats.thresholds && stats.thresholds.length > 0) io.out(formatThresholds(stats.thresholds));
  if (failedGates.length > 0) {
    io.err.write(
      `flashsale: ${failedGates.length} SLO gate(s) failed: ${failedGates.map((t) => t.metric).join(", ")}\n`,
    );
    return EXIT_THRESHOLD_BREACHED;
  }
  if (stats.failureRatio > args.failRatio) {
    io.err.write(
      `flashsale: ${(stats.failureRatio * 100).toFixed(2)}% of requests failed (over --fail-ratio ${args.failRatio})\n`,
    );
    return 1;
  }
  return 0;
}

/** The gates as a small table: metric, max, measured value, PASS/FAIL. */
function formatThresholds(results: ReadonlyArray<ThresholdResult>): string {
  const lines = ["", "SLO gates", `${"Metric".padEnd(18)} ${"Max".padStart(10)} ${"Value".padStart(10)}  Result`];
  for (const t of results) {
    lines.push(
      `${t.metric.padEnd(18)} ${String(t.max).padStart(10)} ${String(t.value).padStart(10)}  ${t.pass ? "PASS" : "FAIL"}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  let env: CliEnv;
  try {
    env = loadCliEnv();
  } catch (error) {
    console.error(errorMessage(error));
    process.exit(2);
  }
  let onInterrupt: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => {
    onInterrupt = resolve;
  });
  let interrupts = 0;
  process.on("SIGINT", () => {
    // First Ctrl-C stops the burst and still prints the summary; a second one quits at once.
    if (++interrupts > 1) process.exit(130);
    onInterrupt();
  });
  const code = await runFlashsale(process.argv.slice(2), env, {
    out: (text) => process.stdout.write(`${text}\n`),
    err: process.stderr,
    interrupted,
  });
  process.exit(code);
}
