import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { createLogger } from "@surge/core";
import { freePort, tempSqliteStore } from "@surge/testing";
import { type Moto, startMoto } from "@surge/testing/moto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CloudWatchQueueAge } from "../src/cloudwatch-queue-age.js";
import { createApiMetrics } from "../src/metrics.js";

const silentLog = createLogger({ service: "test" }, { write: () => {} });

// Against moto's CloudWatch: PutMetricData seeds what SQS would publish, GetMetricData reads it back.
describe("SQS ApproximateAgeOfOldestMessage from CloudWatch (moto)", () => {
  let moto: Moto;
  let client: CloudWatchClient;
  let clock: number;
  const source = (c: CloudWatchClient = client, log = silentLog) =>
    new CloudWatchQueueAge({
      client: c,
      queues: { orders: "surge-orders", dlq: "surge-orders-dlq" },
      log,
      now: () => clock,
    });
  /** One per-minute point of a queue's age, `minutesAgo` before the clock. */
  const seed = (queue: string, minutesAgo: number, seconds: number) =>
    client.send(
      new PutMetricDataCommand({
        Namespace: "AWS/SQS",
        MetricData: [
          {
            MetricName: "ApproximateAgeOfOldestMessage",
            Dimensions: [{ Name: "QueueName", Value: queue }],
            Timestamp: new Date(clock - minutesAgo * 60_000),
            Value: seconds,
            Unit: "Seconds",
          },
        ],
      }),
    );

  beforeAll(async () => {
    moto = await startMoto();
    client = new CloudWatchClient(moto.clientConfig);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    // Whole minutes, as CloudWatch's per-minute points are.
    clock = Math.floor(Date.now() / 60_000) * 60_000;
  });

  it("reads the latest per-minute maximum of both queues", async () => {
    await seed("surge-orders", 5, 12);
    await seed("surge-orders", 3, 30);
    await seed("surge-orders", 1.5, 42);
    await seed("surge-orders-dlq", 2, 3600);
    // Another queue's figure is not ours; one older than the 10-minute look-back is not recent.
    await seed("other-queue", 1, 999);
    expect(await source().read()).toEqual({ orders: 42, dlq: 3600 });
  });

  it("serves scrapes from one reading per minute, and concurrent scrapes share a call", async () => {
    await seed("surge-orders", 2, 5);
    const ages = source();
    expect(await Promise.all([ages.read(), ages.read(), ages.read()])).toEqual([
      { orders: 5 },
      { orders: 5 },
      { orders: 5 },
    ]);
    await seed("surge-orders", 1.5, 9);
    clock += 59_000;
    expect(await ages.read()).toEqual({ orders: 5 });
    clock += 2_000;
    expect(await ages.read()).toEqual({ orders: 9 });
  });

  it("leaves every queue out when CloudWatch does not answer, and logs the call by name", async () => {
    const lines: string[] = [];
    const log = createLogger({ service: "test" }, { write: (line: string) => lines.push(line) });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = new CloudWatchClient({ ...moto.clientConfig, endpoint: closed, maxAttempts: 1 });
    expect(await source(unreachable, log).read()).toEqual({});
    unreachable.destroy();
    expect(lines.join("\n")).toContain("AWS call CloudWatch.GetMetricData failed: the endpoint did not answer");
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
      await seed("surge-orders", 2, 75);
      const metrics = createApiMetrics({ store: t.store, payments: () => undefined, queueAge: source() });
      const gauge = metrics.registry.getSingleMetric("surge_queue_oldest_message_age_seconds");
      expect((await gauge?.get())?.values).toEqual([{ labels: { queue: "orders" }, value: 75 }]);
      // Eleven minutes on, nothing recent: the queue is left out.
      clock += 11 * 60_000;
      expect((await gauge?.get())?.values).toEqual([]);
    });

    it("is not registered at all without a source (locally there is no CloudWatch)", async () => {
      const metrics = createApiMetrics({ store: t.store, payments: () => undefined });
      expect(metrics.registry.getSingleMetric("surge_queue_oldest_message_age_seconds")).toBeUndefined();
    });
  });
});
