import { type CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { errorMessage, type Logger } from "@surge/core";
import { callAws } from "./aws-error.js";

/** Age of the oldest message per queue, in seconds; a queue CloudWatch has no recent figure for is absent. */
type QueueAges = Partial<Record<"orders" | "dlq", number>>;

export interface QueueAgeSource {
  read(): Promise<QueueAges>;
}

interface CloudWatchQueueAgeOptions {
  client: CloudWatchClient;
  /** SQS queue names (the CloudWatch `QueueName` dimension). */
  queues: { orders: string; dlq: string };
  log: Logger;
  /**
   * How long one reading serves scrapes, in ms. Default 60000: SQS publishes its
   * CloudWatch metrics once a minute, so asking more often costs GetMetricData
   * calls and returns the same number.
   */
  cacheMs?: number;
  now?: () => number;
}

/**
 * SQS's ApproximateAgeOfOldestMessage (only CloudWatch reports it), beside the store's exact age. A
 * failed or empty reading leaves the queue out: 0 would claim nothing waits.
 */
export class CloudWatchQueueAge implements QueueAgeSource {
  readonly #options: CloudWatchQueueAgeOptions;
  #cached: { atMs: number; ages: QueueAges } | undefined;
  #inflight: Promise<QueueAges> | undefined;

  constructor(options: CloudWatchQueueAgeOptions) {
    this.#options = options;
  }

  read(): Promise<QueueAges> {
    const now = (this.#options.now ?? Date.now)();
    if (this.#cached && now - this.#cached.atMs < (this.#options.cacheMs ?? 60_000)) {
      return Promise.resolve(this.#cached.ages);
    }
    // Concurrent scrapes share one call.
    this.#inflight ??= this.#fetch(now).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(now: number): Promise<QueueAges> {
    const { client, queues } = this.#options;
    const query = (id: "orders" | "dlq") => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateAgeOfOldestMessage",
          Dimensions: [{ Name: "QueueName", Value: queues[id] }],
        },
        Period: 60,
        Stat: "Maximum",
      },
      ReturnData: true,
    });
    try {
      const out = await callAws("CloudWatch.GetMetricData", () =>
        client.send(
          new GetMetricDataCommand({
            MetricDataQueries: [query("orders"), query("dlq")],
            // SQS metrics land a few minutes late: look back far enough to find the latest one.
            StartTime: new Date(now - 10 * 60_000),
            EndTime: new Date(now),
            ScanBy: "TimestampDescending",
          }),
        ),
      );
      const ages: QueueAges = {};
      for (const result of out.MetricDataResults ?? []) {
        const latest = result.Values?.[0];
        if ((result.Id === "orders" || result.Id === "dlq") && latest !== undefined) ages[result.Id] = latest;
      }
      this.#cached = { atMs: now, ages };
      return ages;
    } catch (error) {
      // The AwsCallError's message names the call and the remedy; never the SDK's raw dump.
      this.#options.log.warn("queue age from CloudWatch unavailable", { error: errorMessage(error) });
      this.#cached = { atMs: now, ages: {} };
      return {};
    }
  }
}
