import { STUDY_INIT_DURATION_MS } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { billedDurationMs, type LambdaReport, parseReportLine, reportLine } from "../src/report.js";
import { snsEventFromEnvelope } from "../src/sns-source.js";
import { percentile, summarize } from "../src/summary.js";

// The study's ten REPORT lines (Part III): five cold, five warm, 512 MB, 18 MB used.
const STUDY = [
  { id: "4da1f7d0-4a6f-4321-b108-84403e647d67", duration: 3005.31, billed: 3064, init: 58.36 },
  { id: "477b89af-45a3-49e2-8a90-dd2e92e35553", duration: 3005.31, billed: 3065, init: 59.61 },
  { id: "f24896f5-e78e-442d-b9a4-9ec876e928ee", duration: 3005.54, billed: 3063, init: 57.41 },
  { id: "e27e139f-8278-46ae-b892-166413db729d", duration: 3002.28, billed: 3069, init: 65.87 },
  { id: "23fcdfbe-c7ce-483f-a63d-0d0c919c82bf", duration: 3002.7, billed: 3062, init: 58.41 },
  { id: "b01f8b02-8872-4846-a87d-d67da2d0decd", duration: 3003.55, billed: 3004 },
  { id: "642ddf56-c72d-43a6-b4f1-beb972216556", duration: 3001.53, billed: 3002 },
  { id: "48e630ef-a957-4168-9a6c-66544b885059", duration: 3003.64, billed: 3004 },
  { id: "453e4217-5b3c-45c4-9e89-5462af9b2a78", duration: 3003.35, billed: 3004 },
  { id: "f92cc59a-5dd2-4677-9bc0-2c088a727768", duration: 3003.57, billed: 3004 },
];

describe("REPORT lines", () => {
  it("bills duration plus init, rounded up to the millisecond: every billed figure of the study", () => {
    for (const r of STUDY) expect(billedDurationMs(r.duration, r.init), r.id).toBe(r.billed);
    // Float noise in the sum never bills an extra millisecond.
    expect(billedDurationMs(3003.1 + 0.9)).toBe(3004);
    expect(billedDurationMs(0.001)).toBe(1);
  });

  it("prints AWS's exact format: tab-separated, a trailing tab, Init Duration on cold starts only", () => {
    const cold = STUDY[0];
    const warm = STUDY[5];
    if (!cold || !warm) throw new Error("fixture");
    expect(
      reportLine({
        requestId: cold.id,
        durationMs: cold.duration,
        billedDurationMs: cold.billed,
        memorySizeMb: 512,
        maxMemoryUsedMb: 18,
        initDurationMs: cold.init,
      }),
    ).toBe(
      "REPORT RequestId: 4da1f7d0-4a6f-4321-b108-84403e647d67\tDuration: 3005.31 ms\tBilled Duration: 3064 ms\tMemory Size: 512 MB\tMax Memory Used: 18 MB\tInit Duration: 58.36 ms\t",
    );
    expect(
      reportLine({
        requestId: warm.id,
        durationMs: warm.duration,
        billedDurationMs: warm.billed,
        memorySizeMb: 512,
        maxMemoryUsedMb: 18,
      }),
    ).toBe(
      "REPORT RequestId: b01f8b02-8872-4846-a87d-d67da2d0decd\tDuration: 3003.55 ms\tBilled Duration: 3004 ms\tMemory Size: 512 MB\tMax Memory Used: 18 MB\t",
    );
    const timeout = reportLine({
      requestId: "x",
      durationMs: 30_000,
      billedDurationMs: 30_000,
      memorySizeMb: 512,
      maxMemoryUsedMb: 60,
      status: "timeout",
    });
    expect(timeout).toMatch(/\tMax Memory Used: 60 MB\tStatus: timeout\t$/);
  });

  it("parses its own lines back as Logs Insights would discover the fields", () => {
    for (const r of STUDY) {
      const line = reportLine({
        requestId: r.id,
        durationMs: r.duration,
        billedDurationMs: r.billed,
        memorySizeMb: 512,
        maxMemoryUsedMb: 18,
        initDurationMs: r.init,
      });
      expect(parseReportLine(line)).toEqual({
        requestId: r.id,
        durationMs: r.duration,
        billedDurationMs: r.billed,
        memorySizeMb: 512,
        maxMemoryUsedMb: 18,
        ...(r.init !== undefined && { initDurationMs: r.init }),
      });
    }
    expect(parseReportLine("START RequestId: x Version: $LATEST")).toBeUndefined();
  });
});

describe("summaries over REPORTs", () => {
  const at = Date.UTC(2026, 0, 1, 8, 56, 0);
  const reports: LambdaReport[] = STUDY.map((r, i) => ({
    requestId: r.id,
    functionName: "order-processor-lambda",
    environmentId: `env-${i % 5}`,
    startedAtMs: at + i * 1000,
    endedAtMs: at + i * 1000 + 3000,
    durationMs: r.duration,
    billedDurationMs: r.billed,
    memorySizeMb: 512,
    maxMemoryUsedMb: 18,
    ...(r.init !== undefined && { initDurationMs: r.init }),
    start: r.init === undefined ? "warm" : "cold",
    initializationType: "on-demand",
    outcome: "success",
    line: "",
  }));

  it("answers the study's questions from its own lines: 5 cold of 10, init 57.41–65.87 ms, 15.17 GB-s", () => {
    const s = summarize(reports, [], { sinceMs: at, untilMs: at + 60_000, binSeconds: 300 });
    expect(s).toMatchObject({ invocations: 10, coldStarts: 5, warmStarts: 5, coldStartShare: 0.5, errors: 0 });
    expect(s.initDurationMs).toEqual(STUDY_INIT_DURATION_MS);
    expect(Math.round(s.billedGbSeconds * 100) / 100).toBe(15.17);
    expect(s.bins).toEqual([
      { startMs: Date.UTC(2026, 0, 1, 8, 55, 0), invocations: 10, coldStarts: 5, coldStartShare: 0.5 },
    ]);
  });

  it("counts only what ended inside the window, throttles included", () => {
    const s = summarize(reports, [at - 1, at + 10, at + 20], { sinceMs: at + 5000, untilMs: at + 8000 });
    expect(s.invocations).toBe(3);
    expect(s.throttles).toBe(0);
    expect(summarize(reports, [at + 10, at + 20], { sinceMs: at, untilMs: at + 100 }).throttles).toBe(2);
  });

  it("takes nearest-rank percentiles", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});

describe("SNS events", () => {
  it("builds the event Lambda invokes with from an SNS envelope, in Lambda's spelling", () => {
    const envelope = {
      Type: "Notification",
      MessageId: "m-1",
      TopicArn: "arn:aws:sns:us-east-1:000000000000:orders",
      Subject: null,
      Message: '{"orderId":"o-1","acceptedAt":"2026-01-01T00:00:00.000Z"}',
      Timestamp: "2026-01-01T00:00:00.000Z",
      SignatureVersion: "1",
      Signature: "EXAMPLE",
      SigningCertURL: "https://sns/cert.pem",
      UnsubscribeURL: "https://sns/unsubscribe",
      MessageAttributes: { target: { Type: "String", Value: "lambda" } },
    };
    const event = snsEventFromEnvelope(JSON.stringify(envelope), "arn:sub");
    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]).toEqual({
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:sub",
      Sns: {
        Type: "Notification",
        MessageId: "m-1",
        TopicArn: envelope.TopicArn,
        Message: envelope.Message,
        Timestamp: envelope.Timestamp,
        SignatureVersion: "1",
        Signature: "EXAMPLE",
        SigningCertUrl: "https://sns/cert.pem",
        UnsubscribeUrl: "https://sns/unsubscribe",
        MessageAttributes: envelope.MessageAttributes,
      },
    });
    expect(() => snsEventFromEnvelope('{"orderId":"raw"}', "arn:sub")).toThrow(/not an SNS notification/);
    expect(() => snsEventFromEnvelope("%%", "arn:sub")).toThrow(/not JSON/);
  });
});
