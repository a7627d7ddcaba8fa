import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetQueryResultsCommand,
  PutLogEventsCommand,
  StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { STUDY_INIT_DURATION_MS } from "@surge/testing";
import { type Moto, startMoto } from "@surge/testing/moto";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsCallError } from "../src/aws-error.js";
import { AwsLambdaInsights, binsQuery, parseInsightsTime, SUMMARY_QUERY } from "../src/lambda/aws.js";
import { LambdaUnavailableError } from "../src/lambda/insights.js";
import { LocalLambdaInsights } from "../src/lambda/local.js";

const field = (name: string, value: string) => ({ field: name, value });

// Recorded shapes (aws-sdk-client-mock) for Logs Insights: moto 5.2.1 runs a query without `stats`,
// `filter` or REPORT field discovery (it returns each event's @ptr/@timestamp/@message), so the summary,
// bins and report lists cannot be answered there; what moto answers runs against it below
// (docs/testing.md, "Recorded shapes").
describe("Lambda figures from AWS on recorded shapes: Logs Insights over REPORT lines", () => {
  // Created here, not at collection: a stub replaces every client's send, the moto tests' too.
  let logs: AwsClientStub<CloudWatchLogsClient>;
  let cloudwatch: AwsClientStub<CloudWatchClient>;
  beforeAll(() => {
    logs = mockClient(CloudWatchLogsClient);
    cloudwatch = mockClient(CloudWatchClient);
  });
  afterAll(() => {
    logs.restore();
    cloudwatch.restore();
  });
  let clock: number;
  let slept: number[];
  const insights = (options: { queryTimeoutMs?: number } = {}) =>
    new AwsLambdaInsights({
      logs: new CloudWatchLogsClient({ region: "us-west-2" }),
      cloudwatch: new CloudWatchClient({ region: "us-west-2" }),
      functionName: "order-processor-lambda",
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
      ...options,
    });

  beforeEach(() => {
    logs.reset();
    cloudwatch.reset();
    clock = Date.parse("2026-11-26T09:00:30Z");
    slept = [];
  });

  /** Two queries per summary (stats, bins), told apart by their text; each runs once, then completes. */
  function answerQueries(stats: Array<Array<{ field: string; value: string }>>, bins: typeof stats) {
    logs.on(StartQueryCommand).callsFake((input: { queryString: string }) => ({
      queryId: input.queryString.includes("bin(") ? "q-bins" : "q-stats",
    }));
    const polled = new Map<string, number>();
    logs.on(GetQueryResultsCommand).callsFake((input: { queryId: string }) => {
      const n = (polled.get(input.queryId) ?? 0) + 1;
      polled.set(input.queryId, n);
      if (n === 1) return { status: "Running", results: [] };
      return { status: "Complete", results: input.queryId === "q-bins" ? bins : stats };
    });
  }

  it("answers init duration percentiles, cold-start share by 5-minute bin and billed GB-seconds", async () => {
    // The study's ten invocations, as Logs Insights would summarise them.
    answerQueries(
      [
        [
          field("invocations", "10"),
          field("coldStarts", "5"),
          field("initMin", "57.41"),
          field("initMean", "59.932"),
          field("initMax", "65.87"),
          field("initP50", "58.41"),
          field("initP95", "65.87"),
          field("initP99", "65.87"),
          field("durationMin", "3001.53"),
          field("durationMean", "3003.478"),
          field("durationMax", "3005.54"),
          field("durationP50", "3003.55"),
          field("durationP95", "3005.54"),
          field("durationP99", "3005.54"),
          field("billedMs", "30341"),
          field("memorySize", "512000000"),
          field("maxMemoryUsed", "18000000"),
        ],
      ],
      [
        [field("binStart", "2026-11-26 08:55:00.000"), field("invocations", "8"), field("coldStarts", "5")],
        [field("binStart", "2026-11-26 09:00:00.000"), field("invocations", "2"), field("coldStarts", "0")],
      ],
    );
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: "invocations", Values: [10] },
        { Id: "errors", Values: [0] },
        { Id: "throttles", Values: [1, 2] },
        { Id: "concurrent", Values: [0, 5] },
      ],
    });
    const sinceMs = Date.parse("2026-11-26T08:30:10Z");
    const s = await insights().summary({ sinceMs, untilMs: clock, binSeconds: 300 });
    expect(s).toMatchObject({
      source: "aws",
      functionName: "order-processor-lambda",
      // Rounded out to whole minutes, so asks seconds apart share one answer.
      sinceMs: Date.parse("2026-11-26T08:30:00Z"),
      untilMs: Date.parse("2026-11-26T09:01:00Z"),
      invocations: 10,
      coldStarts: 5,
      warmStarts: 5,
      coldStartShare: 0.5,
      errors: 0,
      throttles: 3,
      maxMemoryUsedMb: 18,
    });
    expect(s.initDurationMs).toEqual(STUDY_INIT_DURATION_MS);
    expect(s.durationMs.p50).toBe(3003.55);
    // 30,341 billed ms at 512 MB: the study's 15.17 GB-s.
    expect(Math.round(s.billedGbSeconds * 100) / 100).toBe(15.17);
    expect(s.bins).toEqual([
      { startMs: Date.parse("2026-11-26T08:55:00Z"), invocations: 8, coldStarts: 5, coldStartShare: 5 / 8 },
      { startMs: Date.parse("2026-11-26T09:00:00Z"), invocations: 2, coldStarts: 0, coldStartShare: 0 },
    ]);

    const starts = logs.commandCalls(StartQueryCommand).map((c) => c.args[0].input);
    expect(starts.map((i) => i.logGroupNames)).toEqual([
      ["/aws/lambda/order-processor-lambda"],
      ["/aws/lambda/order-processor-lambda"],
    ]);
    expect(starts[0]?.startTime).toBe(Date.parse("2026-11-26T08:30:00Z") / 1000);
    const texts = starts.map((i) => i.queryString ?? "");
    expect(texts).toContain(SUMMARY_QUERY);
    for (const p of [50, 95, 99]) expect(SUMMARY_QUERY).toContain(`pct(@initDuration, ${p})`);
    expect(texts).toContain(binsQuery(300));
    expect(binsQuery(300)).toContain("count(@initDuration) as coldStarts by bin(5m)");
    // Polled until complete, with the configured pause between polls.
    expect(slept).toEqual([500, 500]);

    const metricQueries = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
    expect(
      metricQueries.map((q) => [
        q.Id,
        q.MetricStat?.Metric?.Namespace,
        q.MetricStat?.Metric?.MetricName,
        q.MetricStat?.Stat,
      ]),
    ).toEqual([
      ["invocations", "AWS/Lambda", "Invocations", "Sum"],
      ["errors", "AWS/Lambda", "Errors", "Sum"],
      ["throttles", "AWS/Lambda", "Throttles", "Sum"],
      ["concurrent", "AWS/Lambda", "ConcurrentExecutions", "Maximum"],
    ]);
    expect(metricQueries[0]?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: "FunctionName", Value: "order-processor-lambda" },
    ]);
  });

  it("lists recent REPORT lines, cold ones with their init duration", async () => {
    logs.on(StartQueryCommand).resolves({ queryId: "q" });
    logs.on(GetQueryResultsCommand).resolves({
      status: "Complete",
      results: [
        [
          field("@timestamp", "2026-11-26 08:56:03.064"),
          field("@requestId", "4da1f7d0-4a6f-4321-b108-84403e647d67"),
          field("@duration", "3005.31"),
          field("@billedDuration", "3064"),
          field("@initDuration", "58.36"),
          field("@memorySize", "512000000"),
          field("@maxMemoryUsed", "18000000"),
          field(
            "@message",
            "REPORT RequestId: 4da1f7d0-4a6f-4321-b108-84403e647d67\tDuration: 3005.31 ms\tBilled Duration: 3064 ms\tMemory Size: 512 MB\tMax Memory Used: 18 MB\tInit Duration: 58.36 ms\t\n",
          ),
        ],
        [
          field("@timestamp", "2026-11-26 08:56:06.004"),
          field("@requestId", "b01f8b02-8872-4846-a87d-d67da2d0decd"),
          field("@duration", "3003.55"),
          field("@billedDuration", "3004"),
          field("@memorySize", "512000000"),
          field("@maxMemoryUsed", "18000000"),
          field("@message", "REPORT RequestId: b01f8b02-…"),
        ],
      ],
    });
    const reports = await insights().recentReports(20);
    expect(reports[0]).toEqual({
      requestId: "4da1f7d0-4a6f-4321-b108-84403e647d67",
      at: "2026-11-26T08:56:03.064Z",
      start: "cold",
      durationMs: 3005.31,
      billedDurationMs: 3064,
      initDurationMs: 58.36,
      memorySizeMb: 512,
      maxMemoryUsedMb: 18,
      line: "REPORT RequestId: 4da1f7d0-4a6f-4321-b108-84403e647d67\tDuration: 3005.31 ms\tBilled Duration: 3064 ms\tMemory Size: 512 MB\tMax Memory Used: 18 MB\tInit Duration: 58.36 ms",
    });
    expect(reports[1]).toMatchObject({ start: "warm", durationMs: 3003.55 });
    expect(reports[1]?.initDurationMs).toBeUndefined();
    expect(logs.commandCalls(StartQueryCommand)[0]?.args[0].input.queryString).toMatch(
      /sort @timestamp desc\n\| limit 20$/,
    );
  });

  it("says 502 naming the call when Logs Insights refuses, 503 when a query does not finish, and caches no failure", async () => {
    const denied = Object.assign(new Error("User is not authorized to perform: logs:StartQuery"), {
      name: "AccessDeniedException",
      $fault: "client" as const,
      $metadata: { httpStatusCode: 400 },
    });
    logs.on(StartQueryCommand).rejects(denied);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const i = insights({ queryTimeoutMs: 2000 });
    const window = { sinceMs: clock - 3600_000, untilMs: clock };
    const failed = await i.summary(window).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AwsCallError);
    expect(failed).toMatchObject({ status: 502, call: "CloudWatchLogs.StartQuery" });
    expect((failed as Error).message).toMatch(/failed: access denied \(AccessDeniedException: User is not authorized/);
    expect((failed as AwsCallError).remedy).toMatch(/^Grant the API task role logs:StartQuery/);

    logs.reset();
    logs.on(StartQueryCommand).resolves({ queryId: "q" });
    logs.on(GetQueryResultsCommand).resolves({ status: "Running" });
    await expect(i.summary(window)).rejects.toThrow(/did not complete within 2000 ms/);

    logs.reset();
    logs.on(StartQueryCommand).resolves({ queryId: "q" });
    logs.on(GetQueryResultsCommand).resolves({ status: "Failed" });
    await expect(i.summary(window)).rejects.toThrow(/ended Failed/);
  });

  it("parses Logs Insights times as UTC", () => {
    expect(parseInsightsTime("2026-11-26 08:55:00.000")).toBe(Date.parse("2026-11-26T08:55:00Z"));
    expect(parseInsightsTime(undefined)).toBe(0);
    expect(parseInsightsTime("garbage")).toBe(0);
  });
});

describe("Lambda figures from AWS against moto: GetMetricData, and Logs Insights' missing parts", () => {
  let moto: Moto;
  let logs: CloudWatchLogsClient;
  let cloudwatch: CloudWatchClient;
  let clock: number;
  const FUNCTION = "order-processor-lambda";
  const insights = () =>
    new AwsLambdaInsights({ logs, cloudwatch, functionName: FUNCTION, now: () => clock, pollIntervalMs: 20 });
  const seed = (name: string, minutesAgo: number, value: number) =>
    cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: "AWS/Lambda",
        MetricData: [
          {
            MetricName: name,
            Dimensions: [{ Name: "FunctionName", Value: FUNCTION }],
            Timestamp: new Date(clock - minutesAgo * 60_000),
            Value: value,
          },
        ],
      }),
    );
  beforeAll(async () => {
    moto = await startMoto();
    logs = new CloudWatchLogsClient(moto.clientConfig);
    cloudwatch = new CloudWatchClient(moto.clientConfig);
  }, 60_000);
  afterAll(async () => {
    logs?.destroy();
    cloudwatch?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    clock = Math.floor(Date.now() / 60_000) * 60_000;
  });

  it("reads live figures from GetMetricData and caches them for a minute", async () => {
    await seed("Invocations", 3, 40);
    await seed("Invocations", 1.5, 60);
    await seed("Errors", 2, 1);
    await seed("ConcurrentExecutions", 3, 3);
    await seed("ConcurrentExecutions", 1.5, 7);
    // Another function's figures are not this one's.
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: "AWS/Lambda",
        MetricData: [
          {
            MetricName: "Invocations",
            Dimensions: [{ Name: "FunctionName", Value: "another" }],
            Timestamp: new Date(clock - 60_000),
            Value: 1000,
          },
        ],
      }),
    );
    const i = insights();
    const live = await i.live();
    expect(live).toEqual({
      source: "aws",
      functionName: FUNCTION,
      concurrentExecutions: 7,
      invocations: 100,
      errors: 1,
      throttles: 0,
      period: "last-5-minutes",
    });
    await seed("Invocations", 1.2, 900);
    clock += 30_000;
    expect((await i.live()).invocations).toBe(100);
    clock += 31_000;
    expect((await i.live()).invocations).toBe(1000);
  });

  it("answers 502 naming StartQuery when Logs Insights runs a query without `stats` or REPORT fields", async () => {
    const logGroupName = `/aws/lambda/${FUNCTION}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: "s" }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName,
        logStreamName: "s",
        logEvents: [
          {
            timestamp: clock - 120_000,
            message:
              "REPORT RequestId: 4da1f7d0-4a6f-4321-b108-84403e647d67\tDuration: 3005.31 ms\tBilled Duration: 3064 ms\tMemory Size: 512 MB\tMax Memory Used: 18 MB\t",
          },
        ],
      }),
    );
    const i = insights();
    const summary = await i.summary({ sinceMs: clock - 3600_000, untilMs: clock }).catch((e: unknown) => e);
    expect(summary).toBeInstanceOf(AwsCallError);
    expect(summary).toMatchObject({ status: 502, call: "CloudWatchLogs.StartQuery" });
    expect((summary as Error).message).toMatch(/Logs Insights answered without stats/);
    const reports = await i.recentReports(10).catch((e: unknown) => e);
    expect(reports).toBeInstanceOf(AwsCallError);
    expect((reports as Error).message).toMatch(/without REPORT field discovery/);
  });
});

describe("Lambda figures from the local runtime's control endpoint", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  async function control(routes: Record<string, unknown>, seen: string[] = []): Promise<string> {
    const s = createServer((req, res) => {
      seen.push(req.url ?? "");
      const path = (req.url ?? "").split("?")[0] ?? "";
      const body = routes[path];
      res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify(body ?? { message: "no route" }));
    });
    server = s;
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it("maps the runtime's state, summary and reports", async () => {
    const seen: string[] = [];
    // One REPORT as the runtime sends it (endedAtMs) and as the console reads it (at).
    const report = {
      requestId: "r1",
      start: "cold",
      durationMs: 402.5,
      billedDurationMs: 460,
      initDurationMs: 57.1,
      memorySizeMb: 512,
      maxMemoryUsedMb: 54,
      outcome: "success",
      line: "REPORT RequestId: r1\t…",
    };
    const url = await control(
      {
        "/v1/state": {
          function: {
            name: "surge-orders",
            memoryMb: 512,
            timeoutSeconds: 30,
            reservedConcurrency: 5,
            idleTimeoutSeconds: 300,
          },
          concurrentExecutions: 3,
          environments: { idle: 2, busy: 3, list: [] },
          totals: { invocations: 10, cold: 5, warm: 5, errors: 1, throttles: 4 },
          async: { pending: 2, heldMessages: 2, received: 12 },
        },
        "/v1/summary": { sinceMs: 1, untilMs: 2, invocations: 10, coldStarts: 5, bins: [] },
        "/v1/reports": {
          reports: [{ ...report, endedAtMs: Date.parse("2026-11-26T10:00:00Z") }],
        },
      },
      seen,
    );
    const local = new LocalLambdaInsights({ controlUrl: url });
    expect(await local.live()).toEqual({
      source: "local",
      functionName: "surge-orders",
      memoryMb: 512,
      timeoutSeconds: 30,
      reservedConcurrency: 5,
      idleTimeoutSeconds: 300,
      concurrentExecutions: 3,
      environments: { idle: 2, busy: 3, starting: 0 },
      invocations: 10,
      coldStarts: 5,
      warmStarts: 5,
      errors: 1,
      throttles: 4,
      pendingEvents: 2,
      period: "since-start",
    });
    expect(await local.summary({ sinceMs: 1000.7, untilMs: 5000, binSeconds: 60 })).toMatchObject({
      source: "local",
      functionName: "surge-orders",
      invocations: 10,
      coldStarts: 5,
    });
    expect(seen).toContain("/v1/summary?sinceMs=1000&untilMs=5000&binSeconds=60");
    expect(await local.recentReports(5)).toEqual([{ ...report, at: "2026-11-26T10:00:00.000Z" }]);
    expect(seen).toContain("/v1/reports?limit=5");
  });

  it("maps provisioned concurrency: configured, ready, the starts it served, and each REPORT's initialization", async () => {
    const report = {
      requestId: "r2",
      start: "warm",
      initializationType: "provisioned-concurrency",
      durationMs: 3004.1,
      billedDurationMs: 3005,
      memorySizeMb: 512,
      maxMemoryUsedMb: 53,
      outcome: "success",
      line: "REPORT RequestId: r2\t…",
    };
    const url = await control(
      {
        "/v1/state": {
          function: {
            name: "surge-orders",
            memoryMb: 512,
            timeoutSeconds: 30,
            reservedConcurrency: 20,
            idleTimeoutSeconds: 300,
          },
          provisionedConcurrency: { configured: 10, base: 0, ready: 8, initializing: 2 },
          concurrentExecutions: 0,
          environments: { idle: 8, busy: 0, list: [] },
          totals: { invocations: 30, cold: 4, warm: 26, provisioned: 21, errors: 0, throttles: 0 },
          async: { pending: 0, heldMessages: 0, received: 30 },
        },
        "/v1/reports": { reports: [{ ...report, endedAtMs: Date.parse("2026-11-26T10:00:00Z") }] },
      },
      [],
    );
    const local = new LocalLambdaInsights({ controlUrl: url });
    expect((await local.live()).provisioned).toEqual({ configured: 10, ready: 8, invocations: 21 });
    expect(await local.recentReports(1)).toEqual([{ ...report, at: "2026-11-26T10:00:00.000Z" }]);
  });

  it("says 503, naming the runtime, when it does not answer or answers an error", async () => {
    const url = await control({});
    await expect(new LocalLambdaInsights({ controlUrl: url }).live()).rejects.toThrow(/answered 404/);
    const closed = new LocalLambdaInsights({ controlUrl: "http://127.0.0.1:9", timeoutMs: 500 });
    const error = await closed.live().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaUnavailableError);
    expect((error as Error).message).toMatch(/127\.0\.0\.1:9 did not answer/);
  });
});
