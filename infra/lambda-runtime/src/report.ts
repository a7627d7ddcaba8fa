/**
 * The log lines Lambda writes around every invocation, in AWS's exact format
 * (tab-separated fields, a trailing tab), so the same parsers and the same
 * Logs Insights habits work on the local function's log:
 *
 *   START RequestId: <id> Version: $LATEST
 *   END RequestId: <id>
 *   REPORT RequestId: <id>\tDuration: 3005.31 ms\tBilled Duration: 3064 ms\tMemory Size: 512 MB\tMax Memory Used: 18 MB\tInit Duration: 58.36 ms\t
 */

type StartType = "cold" | "warm";
type InvocationOutcome = "success" | "error";

/** One invocation as its REPORT line tells it, plus what the runtime knows beside it. */
export interface LambdaReport {
  requestId: string;
  functionName: string;
  /** The execution environment (its log stream name). */
  environmentId: string;
  /** Epoch ms the invocation was handed to the environment (after init on a cold start). */
  startedAtMs: number;
  endedAtMs: number;
  /** The handler's run time, in ms (two decimals, as AWS prints it). */
  durationMs: number;
  /** Duration plus, on a cold start, the init, rounded up to the millisecond: what is billed. */
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  /** Present on cold starts only: process start → handler module loaded → ready. */
  initDurationMs?: number;
  start: StartType;
  outcome: InvocationOutcome;
  /** Set when the invocation did not end normally: the handler threw, timed out, or its environment died. */
  status?: "error" | "timeout";
  /** AWS's error type: the thrown error's name, `Runtime.ExitError`, `Sandbox.Timedout`… */
  errorType?: string;
  errorMessage?: string;
  /** The REPORT line itself. */
  line: string;
}

/** Two decimals, as Lambda prints durations. */
export function ms2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Billed duration: the invocation's duration plus its init (Lambda bills the
 * INIT phase: custom runtimes always did, managed runtimes since August 2025),
 * rounded up to the next millisecond, at least 1. Rounding the sum to the printed two
 * decimals first keeps float noise (3004.0000000001) from billing an extra ms.
 * The study's cold starts: 3005.31 + 58.36 → 3064; warm 3003.55 → 3004.
 */
export function billedDurationMs(durationMs: number, initDurationMs = 0): number {
  // Lambda bills at least 1 ms.
  return Math.max(1, Math.ceil(ms2(ms2(durationMs) + ms2(initDurationMs))));
}

export function startLine(requestId: string): string {
  return `START RequestId: ${requestId} Version: $LATEST`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export function reportLine(r: {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  initDurationMs?: number | undefined;
  status?: "error" | "timeout" | undefined;
  errorType?: string | undefined;
}): string {
  const fields = [
    `REPORT RequestId: ${r.requestId}`,
    `Duration: ${ms2(r.durationMs).toFixed(2)} ms`,
    `Billed Duration: ${r.billedDurationMs} ms`,
    `Memory Size: ${r.memorySizeMb} MB`,
    `Max Memory Used: ${r.maxMemoryUsedMb} MB`,
  ];
  if (r.initDurationMs !== undefined) fields.push(`Init Duration: ${ms2(r.initDurationMs).toFixed(2)} ms`);
  // AWS adds a status only when the runtime itself ended the invocation (timeout, crash), not for a thrown error.
  if (r.status) fields.push(`Status: ${r.status}`);
  if (r.status === "error" && r.errorType) fields.push(`Error Type: ${r.errorType}`);
  return `${fields.join("\t")}\t`;
}

/** The fields of a REPORT line, as CloudWatch Logs Insights discovers them (`@duration`, `@initDuration`…). */
interface ParsedReport {
  requestId: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  initDurationMs?: number;
  status?: string;
}

export function parseReportLine(line: string): ParsedReport | undefined {
  const match =
    /^REPORT RequestId: (\S+)\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB\tMax Memory Used: (\d+) MB\t(?:Init Duration: ([\d.]+) ms\t)?(?:Status: (\w+)\t)?/.exec(
      line,
    );
  if (!match) return undefined;
  const [, requestId = "", duration, billed, memory, used, init, status] = match;
  return {
    requestId,
    durationMs: Number(duration),
    billedDurationMs: Number(billed),
    memorySizeMb: Number(memory),
    maxMemoryUsedMb: Number(used),
    ...(init !== undefined && { initDurationMs: Number(init) }),
    ...(status !== undefined && { status }),
  };
}
