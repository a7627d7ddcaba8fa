import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { sleep } from "@surge/core";
import type { SNSEvent, SNSEventRecord } from "aws-lambda";
import type { AsyncInvoker, AsyncOutcome } from "./async-invoker.js";

/** The JSON body SNS delivers to an SQS subscription without raw delivery. */
interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string | null;
  Message: string;
  Timestamp: string;
  SignatureVersion?: string;
  Signature?: string;
  SigningCertURL?: string;
  UnsubscribeURL?: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** Not an SNS notification: nothing a Lambda subscribed to SNS would ever receive. */
class NotAnSnsNotificationError extends Error {
  override readonly name = "NotAnSnsNotificationError";
}

/**
 * The event Lambda hands a function subscribed to a topic, built from the SNS
 * envelope (note Lambda's spelling: SigningCertUrl, UnsubscribeUrl).
 */
export function snsEventFromEnvelope(body: string | undefined, subscriptionArn: string): SNSEvent {
  let envelope: SnsEnvelope;
  try {
    envelope = JSON.parse(body ?? "") as SnsEnvelope;
  } catch {
    throw new NotAnSnsNotificationError("message body is not JSON");
  }
  if (envelope?.Type !== "Notification" || typeof envelope.Message !== "string" || !envelope.MessageId) {
    throw new NotAnSnsNotificationError("message body is not an SNS notification");
  }
  const record: SNSEventRecord = {
    EventSource: "aws:sns",
    EventVersion: "1.0",
    EventSubscriptionArn: subscriptionArn,
    Sns: {
      Type: envelope.Type,
      MessageId: envelope.MessageId,
      TopicArn: envelope.TopicArn,
      ...(envelope.Subject ? { Subject: envelope.Subject } : {}),
      Message: envelope.Message,
      Timestamp: envelope.Timestamp,
      SignatureVersion: envelope.SignatureVersion ?? "1",
      Signature: envelope.Signature ?? "EXAMPLE",
      SigningCertUrl: envelope.SigningCertURL ?? "",
      UnsubscribeUrl: envelope.UnsubscribeURL ?? "",
      MessageAttributes: envelope.MessageAttributes ?? {},
    },
  };
  return { Records: [record] };
}

interface SnsQueueSourceOptions {
  sqs: SQSClient;
  /** The queue subscribed to the topic for Lambda (raw delivery off: bodies are SNS envelopes). */
  queueUrl: string;
  /** The subscription's ARN, as Lambda puts it in every record. Default: derived from the queue URL. */
  subscriptionArn?: string;
  invoker: AsyncInvoker;
  /** An event that failed all its attempts or outlived its maximum age: hand it to the DLQ. */
  onDeadLetter(record: SNSEventRecord | undefined, body: string, reason: string): Promise<void>;
  onError?(error: unknown, where: string): void;
  /** Events held at once (received, not yet settled). Default 1000. */
  maxPendingEvents?: number;
  /** Long-poll wait, in seconds. Default 20. */
  waitTimeSeconds?: number;
  /** Visibility a held message keeps, renewed every third of it, in seconds. Default 30. */
  visibilityTimeoutSeconds?: number;
}

interface Held {
  receiptHandle: string;
  body: string;
}

/**
 * SNS's push to Lambda, locally: fauxqs delivers SNS only to SQS, so this reads the Lambda queue's
 * envelopes as SNSEvents. A message stays until its event settles, so a killed runner loses none.
 */
export class SnsQueueSource {
  readonly #o: SnsQueueSourceOptions & {
    maxPendingEvents: number;
    waitTimeSeconds: number;
    visibilityTimeoutSeconds: number;
  };
  /** By SNS MessageId: a redelivered message of an event already held only refreshes its receipt handle. */
  readonly #held = new Map<string, Held>();
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  received = 0;

  constructor(options: SnsQueueSourceOptions) {
    this.#o = {
      maxPendingEvents: 1000,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 30,
      ...options,
    };
  }

  get held(): number {
    return this.#held.size;
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#poll();
    const everyMs = (this.#o.visibilityTimeoutSeconds * 1000) / 3;
    this.#heartbeat = setInterval(() => void this.#extendVisibility(), everyMs);
    this.#heartbeat.unref();
  }

  async #poll(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const room = this.#o.maxPendingEvents - this.#held.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      let messages: Message[];
      try {
        const out = await this.#o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#o.queueUrl,
            MaxNumberOfMessages: Math.min(10, room),
            WaitTimeSeconds: this.#o.waitTimeSeconds,
            VisibilityTimeout: this.#o.visibilityTimeoutSeconds,
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (signal.aborted) break;
        this.#o.onError?.(error, "receive");
        await sleep(1000, signal);
        continue;
      }
      for (const message of messages) this.#accept(message);
    }
  }

  #accept(message: Message): void {
    this.received++;
    const body = message.Body ?? "";
    const receiptHandle = message.ReceiptHandle ?? "";
    let event: SNSEvent;
    try {
      event = snsEventFromEnvelope(body, this.#subscriptionArn());
    } catch (error) {
      void this.#deadLetter(undefined, { body, receiptHandle }, (error as Error).message);
      return;
    }
    const record = event.Records[0] as SNSEventRecord;
    const id = record.Sns.MessageId;
    const held = this.#held.get(id);
    if (held) {
      held.receiptHandle = receiptHandle;
      return;
    }
    this.#held.set(id, { receiptHandle, body });
    const acceptedAtMs = Date.parse(record.Sns.Timestamp);
    this.#o.invoker.enqueue(
      { id, payload: event, acceptedAtMs: Number.isFinite(acceptedAtMs) ? acceptedAtMs : Date.now() },
      (outcome) => void this.#settled(id, record, outcome),
    );
  }

  async #settled(id: string, record: SNSEventRecord, outcome: AsyncOutcome): Promise<void> {
    const held = this.#held.get(id);
    if (!held) return;
    try {
      if (outcome.kind === "dead") await this.#deadLetter(record, held, outcome.reason);
      else await this.#delete(held);
    } finally {
      this.#held.delete(id);
      this.#wake?.();
    }
  }

  async #deadLetter(record: SNSEventRecord | undefined, held: Held, reason: string): Promise<void> {
    try {
      await this.#o.onDeadLetter(record, held.body, reason);
      await this.#delete(held);
    } catch (error) {
      // Not deleted: the message comes back when its visibility lapses and is tried again.
      this.#o.onError?.(error, "dead-letter");
    }
  }

  async #delete(held: Held): Promise<void> {
    try {
      await this.#o.sqs.send(
        new DeleteMessageCommand({ QueueUrl: this.#o.queueUrl, ReceiptHandle: held.receiptHandle }),
      );
    } catch (error) {
      // A delete that fails redelivers an event already settled: the handler is idempotent.
      this.#o.onError?.(error, "delete");
    }
  }

  async #extendVisibility(): Promise<void> {
    const entries = [...this.#held.values()];
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      try {
        await this.#o.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.#o.queueUrl,
            Entries: chunk.map((h, j) => ({
              Id: String(j),
              ReceiptHandle: h.receiptHandle,
              VisibilityTimeout: this.#o.visibilityTimeoutSeconds,
            })),
          }),
        );
      } catch (error) {
        this.#o.onError?.(error, "visibility heartbeat");
      }
    }
  }

  #subscriptionArn(): string {
    if (this.#o.subscriptionArn) return this.#o.subscriptionArn;
    const name = this.#o.queueUrl.split("/").pop() ?? "lambda";
    return `arn:aws:sns:us-east-1:000000000000:${name}:local`;
  }

  /** Stops receiving; events held stay in the queue and come back to the next runner. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      this.#wake?.();
      clearInterval(this.#heartbeat);
      await this.#loop?.catch(() => {});
    })();
    return this.#closing;
  }
}
