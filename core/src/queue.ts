import {
  CreateTopicCommand,
  PublishBatchCommand,
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
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";

/**
 * SDK clients from the standard AWS configuration (AWS_REGION, credentials chain,
 * AWS_ENDPOINT_URL for the local emulator). SQS is told to use the configured
 * endpoint rather than the queue URL's host: the emulator's queue URLs name a
 * host (sqs.<region>.localhost) that plain DNS does not resolve, and on AWS the
 * regional endpoint is the same host anyway.
 */
export function createAwsClients(config: SQSClientConfig & SNSClientConfig = {}): { sqs: SQSClient; sns: SNSClient } {
  return {
    sqs: new SQSClient({ useQueueUrlAsEndpoint: false, ...config }),
    sns: new SNSClient({ ...config }),
  };
}

export interface QueueNames {
  topic: string;
  queue: string;
  dlq: string;
}

export interface Topology {
  topicArn: string;
  queueUrl: string;
  dlqUrl: string;
}

/**
 * Creates (idempotently) what the local stack needs: the orders topic, the
 * orders queue subscribed with raw delivery, and the dead-letter queue that
 * takes a message after `maxReceiveCount` receives. On AWS the CDK app owns
 * these; the services only resolve them (see resolveTopology).
 */
export async function ensureTopology(
  clients: { sqs: SQSClient; sns: SNSClient },
  names: QueueNames,
  options: { maxReceiveCount: number; visibilityTimeoutSeconds: number },
): Promise<Topology> {
  const { sqs, sns } = clients;
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: names.dlq, Attributes: { MessageRetentionPeriod: "1209600" } }),
  );
  const dlqUrl = required(dlq.QueueUrl, "CreateQueue(dlq).QueueUrl");
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.queue,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        ReceiveMessageWaitTimeSeconds: "20",
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount }),
      },
    }),
  );
  const queueUrl = required(queue.QueueUrl, "CreateQueue.QueueUrl");
  const topic = await sns.send(new CreateTopicCommand({ Name: names.topic }));
  const topicArn = required(topic.TopicArn, "CreateTopic.TopicArn");
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: await queueArn(sqs, queueUrl),
      Attributes: { RawMessageDelivery: "true" },
    }),
  );
  return { topicArn, queueUrl, dlqUrl };
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
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(visibilityTimeoutSeconds))),
      }),
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

/** Publishes order messages to the topic, ten to a PublishBatch call. */
export class OrderTopic {
  constructor(
    readonly sns: SNSClient,
    readonly topicArn: string,
  ) {}

  /** Returns the ids that SNS accepted; the rest stay in the outbox for the next round. */
  async publishBatch(entries: ReadonlyArray<{ id: string; message: string }>): Promise<Set<string>> {
    const accepted = new Set<string>();
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      const out = await this.sns.send(
        new PublishBatchCommand({
          TopicArn: this.topicArn,
          PublishBatchRequestEntries: chunk.map((e) => ({ Id: e.id, Message: e.message })),
        }),
      );
      for (const ok of out.Successful ?? []) if (ok.Id) accepted.add(ok.Id);
    }
    return accepted;
  }
}
