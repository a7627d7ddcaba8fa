import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

interface PipelineAlarmsProps {
  stage: string;
  queue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  oldestMessageAlarmSeconds: number;
  dlqDepthAlarmMessages: number;
  alarmEmail?: string | undefined;
}

/**
 * The pages: an order waiting too long (the queue is not being drained fast
 * enough — the study's 27-minute backlog) and an order given up on (in the
 * orders dead-letter queue, where the workers and the Lambda processor both
 * put theirs). Both notify one SNS topic; subscribe a pager or email to it.
 */
export class PipelineAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly oldestMessage: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, "Topic", {
      topicName: `surge-${props.stage}-alarms`,
      displayName: "Surge alarms",
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.oldestMessage = new cloudwatch.Alarm(this, "OldestOrderAge", {
      alarmName: `surge-${props.stage}-oldest-order-age`,
      alarmDescription:
        `The oldest queued order is older than ${props.oldestMessageAlarmSeconds} s: workers are not keeping up. ` +
        "Check the worker service's running tasks and the scaling activities (GET /ops/scaling-activities).",
      metric: props.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: props.oldestMessageAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Two minutes out of three: one slow sample during a scale-out is not a page.
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      // An idle queue publishes no age: nothing waiting is nothing late.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetters = depthAlarm(this, "DeadLetters", {
      name: `surge-${props.stage}-dead-letters`,
      queue: props.deadLetterQueue,
      threshold: props.dlqDepthAlarmMessages,
      description:
        "Orders were dead-lettered by the workers or the Lambda processor (after its retries): " +
        "see GET /ops/dlq for the reasons, then redrive.",
    });
    for (const alarm of [this.oldestMessage, this.deadLetters]) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
  }
}

function depthAlarm(
  scope: Construct,
  id: string,
  p: { name: string; queue: sqs.IQueue; threshold: number; description: string },
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmName: p.name,
    alarmDescription: p.description,
    metric: p.queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: p.threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
