import { HttpError } from "../http/server.js";

/**
 * What the ops plane knows about the Lambda path, from wherever the function
 * runs: the local runtime (its loopback control endpoint) or AWS (CloudWatch
 * Logs Insights over the REPORT lines, and the AWS/Lambda metrics).
 */

type LambdaSource = "local" | "aws";

import type { DurationStats, InvocationBin, LambdaWindowSummary } from "@surge/core";

export type { DurationStats, InvocationBin };

/** The function over a window: the answers to the study's questions, from REPORT lines, wherever it runs. */
export type LambdaSummary = Omit<LambdaWindowSummary, "billedDurationMs"> & {
  source: LambdaSource;
  functionName: string;
};

/** The function now: cheap enough for the one-second /ops/stream. */
export interface LambdaLive {
  source: LambdaSource;
  functionName: string;
  memoryMb?: number;
  timeoutSeconds?: number;
  reservedConcurrency?: number;
  idleTimeoutSeconds?: number;
  concurrentExecutions: number;
  /**
   * Execution environments (local only: AWS does not say). `busy` counts the starting ones too;
   * `starting` says how many of them are still in their init phase.
   */
  environments?: { idle: number; busy: number; starting?: number };
  /** Since the local runtime started, or over the last 5 minutes on AWS. */
  invocations: number;
  coldStarts?: number;
  warmStarts?: number;
  /**
   * Provisioned concurrency (local only): configured now, environments ready, and the warm starts
   * served by them (`warmStarts` includes them; on-demand warm starts are the rest).
   */
  provisioned?: { configured: number; ready: number; invocations: number };
  errors: number;
  throttles: number;
  /** Async events waiting for an environment or a retry (local only). */
  pendingEvents?: number;
  /** What the figures cover. */
  period: "since-start" | "last-5-minutes";
}

/** One REPORT line, with its fields. */
export interface LambdaReportView {
  requestId: string;
  at: string;
  start: "cold" | "warm";
  /** How its environment was initialised (local only): ahead of time by provisioned concurrency, or on demand. */
  initializationType?: "provisioned-concurrency" | "on-demand";
  durationMs: number;
  billedDurationMs: number;
  initDurationMs?: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  outcome?: "success" | "error";
  line: string;
}

export interface SummaryWindow {
  sinceMs: number;
  untilMs: number;
  /** Cold-start share bins, in seconds. Default 300 (the 5-minute bins of the dashboards). */
  binSeconds?: number;
}

/**
 * One small interface, a local and an AWS implementation, as for the fleet and
 * the autoscaler.
 */
export interface LambdaInsights {
  readonly source: LambdaSource;
  readonly functionName: string;
  live(): Promise<LambdaLive>;
  summary(window: SummaryWindow): Promise<LambdaSummary>;
  /** Newest first. */
  recentReports(limit: number): Promise<LambdaReportView[]>;
}

/** The Lambda runtime or CloudWatch did not answer: the ops plane answers 503 with the reason. */
export class LambdaUnavailableError extends HttpError {
  override readonly name = "LambdaUnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
