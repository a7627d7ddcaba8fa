import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { createLogger } from "@surge/core";
import { tempSqliteStore } from "@surge/testing";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CloudWatchQueueAge } from "../src/cloudwatch-queue-age.js";
import { createApiMetrics } from "../src/metrics.js";

const silentLog = createLogger({ service: "test" }, { write: () => {} });

describe("SQS ApproximateAgeOfOldestMessage from CloudWatch", () => {
  const cloudwatch = mockClient(CloudWatchClient);
  let clock: number;
  const source = () =>
    new CloudWatchQueueAge({
      client: new CloudWatchClient({ region: "us-east-1" }),
      queues: { orders: "surge-orders", dlq: "surge-orders-dlq" },
      log: silentLog,
      now: () => clock,
    });

  beforeEach(() => {
    cloudwatch.reset();
    clock = Date.parse("2026-11-26T10:00:00Z");
  });

  it("asks for the latest per-minute maximum of both queues and takes the newest point", async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: "orders", Values: [42, 30, 12], Timestamps: [] },
        { Id: "dlq", Values: [3600], Timestamps: [] },
      ],
    });
    expect(await source().read()).toEqual({ orders: 42, dlq: 3600 });
    const input = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(input?.ScanBy).toBe("TimestampDescending");
    expect(input?.EndTime).toEqual(new Date(clock));
    expect(input?.MetricDataQueries?.map((q) => [q.Id, q.MetricStat?.Metric?.Dimensions?.[0]?.Value])).toEqual([
      ["orders", "surge-orders"],
      ["dlq", "surge-orders-dlq"],
    ]);
    expect(input?.MetricDataQueries?.[0]?.MetricStat).toMatchObject({
      Metric: { Namespace: "AWS/SQS", MetricName: "ApproximateAgeOfOldestMessage" },
      Period: 60,
      Stat: "Maximum",
    });
  });

  it("serves scrapes from one reading per minute, and concurrent scrapes share a call", async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: "orders", Values: [5] }] });
    const ages = source();
    await Promise.all([ages.read(), ages.read(), ages.read()]);
    clock += 59_000;
    await ages.read();
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(1);
    clock += 2_000;
    await ages.read();
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  describe("as the surge_queue_oldest_message_age_seconds gauge", () => {
    let t: ReturnType<typeof tempSqliteStore>;
    beforeEach(() => {
      t = tempSqliteStore();
    });
    afterEach(async () => {
      await t.remove();
    });

    it("exports a queue only while CloudWatch has a figure for it (never a made-up 0)", async () => {
      cloudwatch
        .on(GetMetricDataCommand)
        .resolvesOnce({
          MetricDataResults: [
            { Id: "orders", Values: [75] },
            { Id: "dlq", Values: [] },
          ],
        })
        .rejectsOnce(new Error("throttled"));
      const metrics = createApiMetrics({ store: t.store, payments: () => undefined, queueAge: source() });
      const gauge = metrics.registry.getSingleMetric("surge_queue_oldest_message_age_seconds");
      expect((await gauge?.get())?.values).toEqual([{ labels: { queue: "orders" }, value: 75 }]);
      clock += 61_000;
      expect((await gauge?.get())?.values).toEqual([]);
    });

    it("is not registered at all without a source (locally there is no CloudWatch)", async () => {
      const metrics = createApiMetrics({ store: t.store, payments: () => undefined });
      expect(metrics.registry.getSingleMetric("surge_queue_oldest_message_age_seconds")).toBeUndefined();
    });
  });
});
