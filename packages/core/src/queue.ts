import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  PublishBatchCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  type SNSClientConfig,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";

/**
 * SDK clients from the standard AWS configuration. SQS uses the configured endpoint, not the queue
 * URL's host: the emulator's (sqs.<region>.localhost) does not resolve, and on AWS they are the same.
 */
export function createAwsClients(config: SQSClientConfig & SNSClientConfig = {}): { sqs: SQSClient; sns: SNSClient } {
  return {
    sqs: new SQSClient({ useQueueUrlAsEndpoint: false, ...config }),
    sns: new SNSClient({ ...config }),
  };
}

interface QueueNames {
  topic: string;
  queue: string;
  dlq: string;
}

export interface Topology {
  topicArn: string;
  queueUrl: string;
  dlqUrl: string;
  /** The queue subscribed for the local Lambda runtime, when ensureTopology was asked for one. */
  lambdaQueueUrl?: string;
}

/** The platform that processes an order: the worker fleet, or the Lambda function. */
export type ProcessingPlatform = "workers" | "lambda";

/**
 * The SNS message attribute that routes an order to its platform. The outbox
 * relay sets it; the subscriptions' filter policies deliver on it.
 */
const ROUTE_ATTRIBUTE = "target";

/**
 * The orders queue takes orders routed to the workers, and messages without a
 * route at all (published by anything that does not set one), so routing never
 * drops an order; the Lambda subscription takes only orders routed to Lambda.
 */
export const FILTER_POLICIES: Record<ProcessingPlatform, object> = {
  workers: { $or: [{ [ROUTE_ATTRIBUTE]: ["workers"] }, { [ROUTE_ATTRIBUTE]: [{ exists: false }] }] },
  lambda: { [ROUTE_ATTRIBUTE]: ["lambda"] },
};

/**
 * Creates (idempotently) the local stack's topic, orders queue (raw delivery) and DLQ; on AWS the
 * CDK app owns them. `lambdaQueue` adds the local Lambda runtime's queue, without raw delivery so
 * bodies are SNS envelopes, and the filter policies that route each order (docs/lambda.md).
 */
export async function ensureTopology(
  clients: { sqs: SQSClient; sns: SNSClient },
  names: QueueNames,
  options: { maxReceiveCount: number; visibilityTimeoutSeconds: number; lambdaQueue?: string | undefined },
): Promise<Topology> {
  const { sqs, sns } = clients;
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: names.dlq, Attributes: { MessageRetentionPeriod: "1209600" } }),
  );
  const dlqUrl = required(dlq.QueueUrl, "CreateQueue(dlq).QueueUrl");
  const dlqArn = await queueArn(sqs, dlqUrl);
  const createWorkQueue = async (name: string, what: string): Promise<string> => {
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(options.visibilityTimeoutSeconds),
          ReceiveMessageWaitTimeSeconds: "20",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount }),
        },
      }),
    );
    return required(created.QueueUrl, what);
  };
  const queueUrl = await createWorkQueue(names.queue, "CreateQueue.QueueUrl");
  const topic = await sns.send(new CreateTopicCommand({ Name: names.topic }));
  const topicArn = required(topic.TopicArn, "CreateTopic.TopicArn");
  const workersSubscription = await subscribeQueue(sns, topicArn, await queueArn(sqs, queueUrl), {
    RawMessageDelivery: "true",
  });
  if (!options.lambdaQueue) return { topicArn, queueUrl, dlqUrl };

  const lambdaQueueUrl = await createWorkQueue(options.lambdaQueue, "CreateQueue(lambda).QueueUrl");
  const lambdaSubscription = await subscribeQueue(sns, topicArn, await queueArn(sqs, lambdaQueueUrl), {
    RawMessageDelivery: "false",
  });
  for (const [arn, platform] of [
    [workersSubscription, "workers"],
    [lambdaSubscription, "lambda"],
  ] as const) {
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: arn,
        AttributeName: "FilterPolicy",
        AttributeValue: JSON.stringify(FILTER_POLICIES[platform]),
      }),
    );
  }
  return { topicArn, queueUrl, dlqUrl, lambdaQueueUrl };
}

/**
 * Subscribes a queue and returns the subscription's ARN. A subscription that
 * exists with other attributes (a filter policy set by an earlier run) is
 * found and updated instead: SNS refuses to subscribe it again.
 */
async function subscribeQueue(
  sns: SNSClient,
  topicArn: string,
  endpoint: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    const out = await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: endpoint, Attributes: attributes }),
    );
    return required(out.SubscriptionArn, "Subscribe.SubscriptionArn");
  } catch (error) {
    if (!/already exists/i.test(error instanceof Error ? error.message : "")) throw error;
  }
  let nextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: nextToken }));
    const existing = page.Subscriptions?.find((s) => s.Endpoint === endpoint && s.SubscriptionArn);
    if (existing?.SubscriptionArn) {
      for (const [name, value] of Object.entries(attributes)) {
        await sns.send(
          new SetSubscriptionAttributesCommand({
            SubscriptionArn: existing.SubscriptionArn,
            AttributeName: name,
            AttributeValue: value,
          }),
        );
      }
      return existing.SubscriptionArn;
    }
    nextToken = page.NextToken;
  } while (nextToken);
  throw new Error(`SNS says ${endpoint} is subscribed to ${topicArn}, but it is not listed`);
}

/** Resolves existing resources by name (or takes the ARN given), never creating queues. */
export async function resolveTopology(
  clients: { sqs: SQSClient; sns: SNSClient },
  names: QueueNames & { topicArn?: string | undefined },
): Promise<Topology> {
  const [queue, dlq] = await Promise.all([
    clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.queue })),
    clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.dlq })),
  ]);
  const topicArn =
    names.topicArn ??
    required((await clients.sns.send(new CreateTopicCommand({ Name: names.topic }))).TopicArn, "TopicArn");
  return {
    topicArn,
    queueUrl: required(queue.QueueUrl, "GetQueueUrl.QueueUrl"),
    dlqUrl: required(dlq.QueueUrl, "GetQueueUrl(dlq).QueueUrl"),
  };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  return required(attrs.Attributes?.QueueArn, "QueueArn");
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`AWS response is missing ${what}`);
  return value;
}

/** A message in the dead-letter queue, with the order it carries and why it is there. */
export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  body: string;
  orderId?: string;
  reason: string;
  sentAt: string;
}

/**
 * The order and the reason in a dead letter, whoever wrote it:
 * - a worker (`sendToDlq`): the order message, with `orderId` and `reason` attributes;
 * - SQS's redrive policy (maxReceiveCount): the order message as it was, no attributes;
 * - Lambda, after an SNS event failed its attempts (its dead-letter queue): the event itself —
 *   `{"Records":[{"Sns":{"Message": <order message>}}]}` — with `ErrorMessage`, `ErrorCode` and
 *   `RequestID` attributes;
 * - SNS, when it could not invoke Lambda at all (the subscription's dead-letter queue): the
 *   notification envelope `{"Type":"Notification","Message": <order message>}`.
 */
export function readDeadLetter(
  body: string,
  attributes: Readonly<Record<string, string>> = {},
): { orderId?: string; reason: string } {
  const orderIdOf = (text: unknown): string | undefined => {
    if (typeof text !== "string") return undefined;
    try {
      const id = (JSON.parse(text) as { orderId?: unknown }).orderId;
      return typeof id === "string" && id !== "" ? id : undefined;
    } catch {
      return undefined; // a poison message: no order to name
    }
  };
  let parsed: { Records?: Array<{ Sns?: { Message?: unknown } }>; Type?: unknown; Message?: unknown } | undefined;
  try {
    const value: unknown = JSON.parse(body);
    if (value && typeof value === "object") parsed = value as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const lambdaEvent = Array.isArray(parsed?.Records) ? parsed.Records[0]?.Sns?.Message : undefined;
  const snsEnvelope = parsed?.Type === "Notification" ? parsed.Message : undefined;
  const orderId = attributes.orderId || orderIdOf(body) || orderIdOf(lambdaEvent) || orderIdOf(snsEnvelope);
  const reason =
    attributes.reason ||
    (lambdaEvent !== undefined
      ? `Lambda gave up after its retries${attributes.ErrorCode ? ` (${attributes.ErrorCode})` : ""}: ${attributes.ErrorMessage || "no error message"}`
      : snsEnvelope !== undefined
        ? "SNS could not deliver it to the Lambda function"
        : "moved by the queue's redrive policy (maxReceiveCount)");
  return { ...(orderId && { orderId }), reason };
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** The SQS operations a worker and the ops plane need, on one queue and its DLQ. */
export class OrderQueue {
  constructor(
    readonly sqs: SQSClient,
    readonly queueUrl: string,
    readonly dlqUrl: string,
  ) {}

  /** Long-polls for up to `max` messages (1..10). Aborting `signal` ends the poll at once. */
  async receive(max: number, waitTimeSeconds: number, signal?: AbortSignal): Promise<Message[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      }),
      signal ? { abortSignal: signal } : {},
    );
    return out.Messages ?? [];
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }));
  }

  async deleteBatch(receiptHandles: ReadonlyArray<string>): Promise<void> {
    for (let i = 0; i < receiptHandles.length; i += 10) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: receiptHandles.slice(i, i + 10).map((h, j) => ({ Id: String(j), ReceiptHandle: h })),
        }),
      );
    }
  }

  async changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<void> {
    await this.changeVisibilityOn(
      this.queueUrl,
      receiptHandle,
      Math.max(0, Math.min(43_200, Math.round(visibilityTimeoutSeconds))),
    );
  }

  /** Moves a message to the DLQ ourselves, with the reason, when retrying cannot help. */
  async sendToDlq(body: string, reason: string, orderId?: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.dlqUrl,
        MessageBody: body.length > 0 ? body : "(empty)",
        MessageAttributes: {
          reason: { DataType: "String", StringValue: reason.slice(0, 1000) },
          ...(orderId ? { orderId: { DataType: "String", StringValue: orderId } } : {}),
        },
      }),
    );
  }

  /**
   * Reads up to `max` DLQ messages without consuming them: each is held for a
   * few seconds while the scan runs, then made visible again. SQS has no peek;
   * this is the usual substitute, and the DLQ has no redrive policy of its own,
   * so the extra receives cost nothing.
   */
  async peekDlq(max = 100): Promise<DeadLetter[]> {
    const scan = await this.scanDlq(max);
    await scan.release();
    return scan.letters;
  }

  /**
   * Receives up to `max` DLQ messages and holds them (30 s) so the caller can
   * delete some with their receipt handles; `release()` makes the rest visible again.
   */
  async scanDlq(max = 100): Promise<{ letters: DeadLetter[]; release(keep?: ReadonlySet<string>): Promise<void> }> {
    const seen = new Map<string, DeadLetter>();
    const handles: string[] = [];
    while (seen.size < max) {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.dlqUrl,
          MaxNumberOfMessages: Math.min(10, max - seen.size),
          VisibilityTimeout: 30,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) {
        if (m.ReceiptHandle) handles.push(m.ReceiptHandle);
        if (!m.MessageId || seen.has(m.MessageId)) continue;
        const attributes = Object.fromEntries(
          Object.entries(m.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue ?? ""]),
        );
        const { orderId, reason } = readDeadLetter(m.Body ?? "", attributes);
        seen.set(m.MessageId, {
          messageId: m.MessageId,
          receiptHandle: m.ReceiptHandle ?? "",
          body: m.Body ?? "",
          ...(orderId ? { orderId } : {}),
          reason,
          sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? Date.now())).toISOString(),
        });
      }
    }
    return {
      letters: [...seen.values()],
      release: async (deleted = new Set<string>()) => {
        await Promise.allSettled(
          handles.filter((h) => !deleted.has(h)).map((h) => this.changeVisibilityOn(this.dlqUrl, h, 0)),
        );
      },
    };
  }

  async deleteFromDlq(receiptHandle: string): Promise<void> {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.dlqUrl, ReceiptHandle: receiptHandle }));
  }

  async purge(which: "orders" | "dlq"): Promise<void> {
    await this.sqs.send(new PurgeQueueCommand({ QueueUrl: which === "dlq" ? this.dlqUrl : this.queueUrl }));
  }

  private async changeVisibilityOn(queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  async depth(queueUrl = this.queueUrl): Promise<QueueDepth> {
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          "ApproximateNumberOfMessages",
          "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed",
        ],
      }),
    );
    const a = out.Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }
}

/** One order message for the topic; `id` is the caller's, echoed back when SNS takes it. */
export interface PublishEntry {
  id: string;
  message: string;
  target?: ProcessingPlatform | undefined;
}

/** Where the outbox relay publishes: the topic itself, or something in front of it (a thread, a fault seam). */
export interface OrderPublisher {
  /**
   * Returns the ids that SNS accepted; the rest stay in the outbox for the next
   * round. An entry's `target` becomes its ROUTE_ATTRIBUTE, which the
   * subscriptions' filter policies deliver on.
   */
  publishBatch(entries: ReadonlyArray<PublishEntry>): Promise<Set<string>>;
}

/** Publishes order messages to the topic, ten to a PublishBatch call. */
export class OrderTopic implements OrderPublisher {
  constructor(
    readonly sns: SNSClient,
    readonly topicArn: string,
  ) {}

  async publishBatch(entries: ReadonlyArray<PublishEntry>): Promise<Set<string>> {
    const accepted = new Set<string>();
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      const out = await this.sns.send(
        new PublishBatchCommand({
          TopicArn: this.topicArn,
          PublishBatchRequestEntries: chunk.map((e) => ({
            Id: e.id,
            Message: e.message,
            ...(e.target && {
              MessageAttributes: { [ROUTE_ATTRIBUTE]: { DataType: "String", StringValue: e.target } },
            }),
          })),
        }),
      );
      for (const ok of out.Successful ?? []) if (ok.Id) accepted.add(ok.Id);
    }
    return accepted;
  }
}
