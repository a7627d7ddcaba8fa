/**
 * START, END and REPORT lines in AWS's exact format (tab-separated, trailing tab), so the same
 * parsers and Logs Insights queries work on the local function's log.
 */

type StartType = "cold" | "warm";
/**
 * How the environment that ran an invocation was initialised, as Lambda's AWS_LAMBDA_INITIALIZATION_TYPE
 * says: ahead of time by provisioned concurrency (its init is not in any REPORT line), or on demand.
 */
export type InitializationType = "provisioned-concurrency" | "on-demand";
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
  initializationType: InitializationType;
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
 * Duration plus init (Lambda bills INIT since August 2025), rounded up to the ms, at least 1. The
 * sum is rounded to two decimals first so float noise (3004.0000000001) does not bill an extra ms.
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
