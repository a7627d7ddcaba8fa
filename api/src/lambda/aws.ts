import { type CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { type CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand } from "@aws-sdk/client-cloudwatch-logs";
import { AwsCallError, callAws } from "../aws-error.js";
import {
  type DurationStats,
  type InvocationBin,
  type LambdaInsights,
  type LambdaLive,
  type LambdaReportView,
  type LambdaSummary,
  LambdaUnavailableError,
  type SummaryWindow,
} from "./insights.js";

interface AwsLambdaInsightsOptions {
  logs: CloudWatchLogsClient;
  cloudwatch: CloudWatchClient;
  /** The function's name (LAMBDA_FUNCTION_NAME): the AWS/Lambda `FunctionName` dimension. */
  functionName: string;
  /** Its log group. Default `/aws/lambda/<functionName>`. */
  logGroupName?: string;
  /** Between GetQueryResults polls, in ms. Default 500. */
  pollIntervalMs?: number;
  /** Longest a Logs Insights query may run before it is given up, in ms. Default 30000. */
  queryTimeoutMs?: number;
  /**
   * How long an answer serves repeated asks, in ms. Default 60000: Lambda's
   * metrics land once a minute, and every Logs Insights query is billed by the
   * data it scans — the console's one-second stream must not run one a second.
   */
  cacheMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** REPORT lines' fields, as Logs Insights discovers them: durations in ms, memory in bytes (MB × 10⁶). */
export const SUMMARY_QUERY = [
  'filter @type = "REPORT"',
  "| stats count(*) as invocations, count(@initDuration) as coldStarts,",
  "  min(@initDuration) as initMin, avg(@initDuration) as initMean, max(@initDuration) as initMax,",
  "  pct(@initDuration, 50) as initP50, pct(@initDuration, 95) as initP95, pct(@initDuration, 99) as initP99,",
  "  min(@duration) as durationMin, avg(@duration) as durationMean, max(@duration) as durationMax,",
  "  pct(@duration, 50) as durationP50, pct(@duration, 95) as durationP95, pct(@duration, 99) as durationP99,",
  "  sum(@billedDuration) as billedMs, max(@memorySize) as memorySize, max(@maxMemoryUsed) as maxMemoryUsed",
].join("\n");

/** Cold-start share by bin: invocations and those with an Init Duration, per bin. */
export function binsQuery(binSeconds: number): string {
  const bin = binSeconds % 60 === 0 ? `${binSeconds / 60}m` : `${binSeconds}s`;
  return [
    'filter @type = "REPORT"',
    `| stats count(*) as invocations, count(@initDuration) as coldStarts by bin(${bin}) as binStart`,
    "| sort binStart asc",
  ].join("\n");
}

const REPORTS_QUERY = (limit: number) =>
  [
    'filter @type = "REPORT"',
    "| fields @timestamp, @requestId, @duration, @billedDuration, @initDuration, @memorySize, @maxMemoryUsed, @message",
    "| sort @timestamp desc",
    `| limit ${Math.max(1, Math.min(10_000, Math.trunc(limit)))}`,
  ].join("\n");

type Row = Record<string, string>;

/**
 * The function on AWS: REPORT lines through Logs Insights; errors, throttles and concurrency from the
 * AWS/Lambda metrics, since a throttled invocation never ran and left no REPORT line.
 */
export class AwsLambdaInsights implements LambdaInsights {
  readonly source = "aws" as const;
  readonly #o: Required<Omit<AwsLambdaInsightsOptions, "logGroupName">> & { logGroupName: string };
  readonly #cache = new Map<string, { atMs: number; value: Promise<unknown> }>();

  constructor(options: AwsLambdaInsightsOptions) {
    this.#o = {
      logGroupName: options.logGroupName ?? `/aws/lambda/${options.functionName}`,
      pollIntervalMs: 500,
      queryTimeoutMs: 30_000,
      cacheMs: 60_000,
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  get functionName(): string {
    return this.#o.functionName;
  }

  live(): Promise<LambdaLive> {
    return this.#cached("live", async () => {
      const now = this.#o.now();
      const sums = await this.#metrics(now - 5 * 60_000, now, 60);
      return {
        source: "aws" as const,
        functionName: this.#o.functionName,
        concurrentExecutions: sums.concurrentExecutionsLatest,
        invocations: sums.invocations,
        errors: sums.errors,
        throttles: sums.throttles,
        period: "last-5-minutes" as const,
      };
    });
  }

  summary(window: SummaryWindow): Promise<LambdaSummary> {
    const binSeconds = Math.max(60, Math.round(window.binSeconds ?? 300));
    // Windows are rounded to the minute so that asks a few seconds apart share one answer.
    const sinceMs = Math.floor(window.sinceMs / 60_000) * 60_000;
    const untilMs = Math.ceil(window.untilMs / 60_000) * 60_000;
    return this.#cached(`summary:${sinceMs}:${untilMs}:${binSeconds}`, async () => {
      const [stats, bins, metrics] = await Promise.all([
        this.#query(SUMMARY_QUERY, sinceMs, untilMs, "invocations"),
        this.#query(binsQuery(binSeconds), sinceMs, untilMs, "invocations"),
        this.#metrics(sinceMs, untilMs, Math.max(60, Math.ceil((untilMs - sinceMs) / 60_000) * 60)),
      ]);
      const row = stats[0] ?? {};
      const invocations = num(row.invocations);
      const coldStarts = num(row.coldStarts);
      const memorySizeMb = num(row.memorySize) / 1e6;
      const stat = (prefix: string, count: number): DurationStats => ({
        count,
        min: round2(num(row[`${prefix}Min`])),
        mean: round2(num(row[`${prefix}Mean`])),
        p50: round2(num(row[`${prefix}P50`])),
        p95: round2(num(row[`${prefix}P95`])),
        p99: round2(num(row[`${prefix}P99`])),
        max: round2(num(row[`${prefix}Max`])),
      });
      return {
        source: "aws" as const,
        functionName: this.#o.functionName,
        sinceMs,
        untilMs,
        invocations,
        coldStarts,
        warmStarts: invocations - coldStarts,
        coldStartShare: invocations > 0 ? coldStarts / invocations : 0,
        errors: metrics.errors,
        throttles: metrics.throttles,
        initDurationMs: stat("init", coldStarts),
        durationMs: stat("duration", invocations),
        billedGbSeconds: (num(row.billedMs) / 1000) * (memorySizeMb / 1024),
        maxMemoryUsedMb: Math.round(num(row.maxMemoryUsed) / 1e6),
        binSeconds,
        bins: bins.map((b): InvocationBin => {
          const n = num(b.invocations);
          const cold = num(b.coldStarts);
          return {
            startMs: parseInsightsTime(b.binStart),
            invocations: n,
            coldStarts: cold,
            coldStartShare: n > 0 ? cold / n : 0,
          };
        }),
      };
    });
  }

  recentReports(limit: number): Promise<LambdaReportView[]> {
    const now = this.#o.now();
    return this.#cached(`reports:${limit}`, async () => {
      const rows = await this.#query(REPORTS_QUERY(limit), now - 3600_000, now, "@duration");
      return rows.map((r): LambdaReportView => {
        const init = r["@initDuration"];
        return {
          requestId: r["@requestId"] ?? "",
          at: new Date(parseInsightsTime(r["@timestamp"])).toISOString(),
          start: init === undefined ? "warm" : "cold",
          durationMs: num(r["@duration"]),
          billedDurationMs: num(r["@billedDuration"]),
          ...(init !== undefined && { initDurationMs: num(init) }),
          memorySizeMb: Math.round(num(r["@memorySize"]) / 1e6),
          maxMemoryUsedMb: Math.round(num(r["@maxMemoryUsed"]) / 1e6),
          line: (r["@message"] ?? "").trimEnd(),
        };
      });
    });
  }

  /**
   * Runs one Logs Insights query to completion (bounded) and returns its rows as field → value maps.
   * `field` is one every row of the answer has on AWS (a `stats` output, a discovered REPORT field): an
   * endpoint that answers rows without it ran the query without that part of the language, and its
   * figures would be zeros that look real.
   */
  async #query(queryString: string, sinceMs: number, untilMs: number, field: string): Promise<Row[]> {
    const started = await callAws("CloudWatchLogs.StartQuery", () =>
      this.#o.logs.send(
        new StartQueryCommand({
          logGroupNames: [this.#o.logGroupName],
          startTime: Math.floor(sinceMs / 1000),
          endTime: Math.ceil(untilMs / 1000),
          queryString,
          limit: 10_000,
        }),
      ),
    );
    const queryId = started.queryId;
    if (!queryId) throw new LambdaUnavailableError("Logs Insights StartQuery returned no queryId");
    const deadline = this.#o.now() + this.#o.queryTimeoutMs;
    for (;;) {
      const id = queryId;
      const out = await callAws("CloudWatchLogs.GetQueryResults", () =>
        this.#o.logs.send(new GetQueryResultsCommand({ queryId: id })),
      );
      if (out.status === "Complete") {
        const rows = (out.results ?? []).map((fields) => {
          const row: Row = {};
          for (const f of fields) if (f.field !== undefined && f.value !== undefined) row[f.field] = f.value;
          return row;
        });
        if (rows.length > 0 && !rows.every((r) => field in r)) {
          const command = queryString.includes("| stats") ? "stats" : "REPORT field discovery";
          throw new AwsCallError(
            "CloudWatchLogs.StartQuery",
            `Logs Insights answered without ${command} (rows lack ${field})`,
            "On AWS, check AWS_ENDPOINT_URL points at CloudWatch Logs itself; an emulator such as moto lacks this part of the query language, so the Lambda summary has no data there (docs/testing.md).",
          );
        }
        return rows;
      }
      if (out.status !== "Running" && out.status !== "Scheduled" && out.status !== undefined) {
        throw new LambdaUnavailableError(`Logs Insights query ended ${out.status}`);
      }
      if (this.#o.now() > deadline) {
        throw new LambdaUnavailableError(`Logs Insights query did not complete within ${this.#o.queryTimeoutMs} ms`);
      }
      await this.#o.sleep(this.#o.pollIntervalMs);
    }
  }

  /** AWS/Lambda sums over [sinceMs, untilMs) and the latest ConcurrentExecutions maximum. */
  async #metrics(sinceMs: number, untilMs: number, periodSeconds: number) {
    const metric = (id: string, name: string, stat: string, period = periodSeconds): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: "AWS/Lambda",
          MetricName: name,
          Dimensions: [{ Name: "FunctionName", Value: this.#o.functionName }],
        },
        Period: period,
        Stat: stat,
      },
      ReturnData: true,
    });
    const results = await callAws("CloudWatch.GetMetricData", () =>
      this.#o.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            metric("invocations", "Invocations", "Sum"),
            metric("errors", "Errors", "Sum"),
            metric("throttles", "Throttles", "Sum"),
            metric("concurrent", "ConcurrentExecutions", "Maximum", 60),
          ],
          StartTime: new Date(sinceMs),
          EndTime: new Date(untilMs),
          ScanBy: "TimestampDescending",
        }),
      ),
    );
    const values = (id: string) => results.MetricDataResults?.find((r) => r.Id === id)?.Values ?? [];
    const sum = (id: string) => values(id).reduce((s, v) => s + v, 0);
    return {
      invocations: sum("invocations"),
      errors: sum("errors"),
      throttles: sum("throttles"),
      // Newest first (TimestampDescending): the latest minute's peak.
      concurrentExecutionsLatest: values("concurrent")[0] ?? 0,
    };
  }

  #cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.#o.now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.atMs < this.#o.cacheMs) return hit.value as Promise<T>;
    const value = load();
    this.#cache.set(key, { atMs: now, value });
    // A failure is not remembered: the next ask tries again.
    value.catch(() => {
      if (this.#cache.get(key)?.value === value) this.#cache.delete(key);
    });
    for (const [k, v] of this.#cache) if (now - v.atMs >= this.#o.cacheMs) this.#cache.delete(k);
    return value;
  }
}

function num(value: string | undefined): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Logs Insights prints times as `2024-05-01 10:05:00.000`, in UTC. */
export function parseInsightsTime(value: string | undefined): number {
  if (!value) return 0;
  const iso = value.includes("T") ? value : `${value.replace(" ", "T")}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : 0;
}
