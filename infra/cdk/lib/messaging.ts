import { FILTER_POLICIES } from "@surge/core";
import { Duration } from "aws-cdk-lib";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DLQ_RETENTION_DAYS, LONG_POLL_SECONDS } from "./sizing.js";

interface OrdersMessagingProps {
  stage: string;
  /** Derived from payment duration and concurrency (sizing.ts); the worker heartbeats by the same amount. */
  visibilityTimeoutSeconds: number;
  /** Receives before SQS moves an order to the DLQ; the worker dead-letters itself at the same count, with a reason. */
  maxReceiveCount: number;
  retentionDays: number;
}

/**
 * The order pipeline's broker: the API publishes to the topic (through its
 * outbox), the topic fans out to the orders queue the worker fleet long-polls,
 * and orders that keep failing land in the dead-letter queue.
 */
export class OrdersMessaging extends Construct {
  readonly topic: sns.Topic;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: OrdersMessagingProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      queueName: `surge-${props.stage}-orders-dlq`,
      // SQS keeps a message's original enqueue time when it moves it here, so the DLQ
      // must keep messages longer than the source queue or they expire on arrival.
      retentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, "Queue", {
      queueName: `surge-${props.stage}-orders`,
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds),
      // Long polling: one ReceiveMessage waits up to 20 s, so idle workers cost no empty receives.
      receiveMessageWaitTime: Duration.seconds(LONG_POLL_SECONDS),
      retentionPeriod: Duration.days(props.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.topic = new sns.Topic(this, "Topic", {
      topicName: `surge-${props.stage}-orders`,
      displayName: "Surge orders",
      enforceSSL: true,
    });
    // Raw delivery: the queue holds the order message itself, as on the local emulator,
    // not an SNS envelope the worker would have to unwrap.
    const subscription = this.topic.addSubscription(
      new subscriptions.SqsSubscription(this.queue, { rawMessageDelivery: true }),
    );
    // Orders routed to the workers, and orders with no route at all: routing never drops one.
    routeTo(subscription, "workers");
  }
}

/**
 * Gives a subscription the filter policy that routes orders to one platform, the
 * same policy the local stack sets (core's FILTER_POLICIES on the `target`
 * message attribute the outbox relay publishes). Set on the L1 resource: the
 * workers' policy is an `$or`, which CDK's SubscriptionFilter cannot express.
 */
export function routeTo(subscription: sns.Subscription, platform: keyof typeof FILTER_POLICIES): void {
  (subscription.node.defaultChild as sns.CfnSubscription).filterPolicy = FILTER_POLICIES[platform];
}
