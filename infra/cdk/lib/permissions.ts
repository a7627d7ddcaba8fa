import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";

/** What Lambda needs to put a function's ENIs in the VPC (AWSLambdaVPCAccessExecutionRole grants these on "*"). */
export const LAMBDA_VPC_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

/**
 * Actions AWS cannot scope to a resource: the only ones a statement may grant on "*" (the IAM test holds every
 * statement to this). RegisterTaskDefinition is harmless alone: iam:PassRole limits the roles it may carry.
 */
export const UNSCOPABLE_ACTIONS: ReadonlySet<string> = new Set([
  "cloudwatch:GetMetricData",
  "cloudwatch:DescribeAlarms",
  "logs:GetQueryResults",
  "logs:StopQuery",
  "ecs:DescribeTaskDefinition",
  "ecs:RegisterTaskDefinition",
  "application-autoscaling:DescribeScalableTargets",
  "application-autoscaling:DescribeScalingPolicies",
  "application-autoscaling:DescribeScalingActivities",
  // Granted by CDK itself to every execution role that pulls an image from ECR.
  "ecr:GetAuthorizationToken",
  ...LAMBDA_VPC_ACTIONS,
]);

/** The tag that marks the worker service's scalable target: the API's Application Auto Scaling rights hang on it. */
export const SCALABLE_TARGET_TAG = "surge:scalable-target";

/** A worker task: consume and settle its queue, and dead-letter a poison order itself, with the reason. */
export function grantWorkerQueueAccess(role: iam.IGrantable, queue: sqs.IQueue, deadLetterQueue: sqs.IQueue): void {
  role.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: "ConsumeOrders",
      actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"],
      resources: [queue.queueArn],
    }),
  );
  role.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: "DeadLetterPoisonOrders",
      actions: ["sqs:SendMessage", "sqs:GetQueueUrl"],
      resources: [deadLetterQueue.queueArn],
    }),
  );
}

interface ApiAccess {
  topic: sns.ITopic;
  queue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  clusterName: string;
  workerServiceArn: string;
  workerTaskDefinitionFamily: string;
  /** Roles a worker task definition carries: the fleet re-registers them in each new revision. */
  workerRoles: iam.IRole[];
  scalableTargetTagValue: string;
  /** The Lambda processor's log group: the ops plane reads its REPORT lines with Logs Insights. */
  lambdaLogGroup: logs.ILogGroup;
}

/**
 * The API task: publish orders, read queue depth and dead letters, and manage
 * the worker fleet — only the worker service, its task definition family and
 * its scalable target.
 */
export function grantApiAccess(scope: Construct, role: iam.IGrantable, a: ApiAccess): void {
  const stack = Stack.of(scope);
  const add = (statement: iam.PolicyStatement) => role.grantPrincipal.addToPrincipalPolicy(statement);
  const arn = (service: string, resource: string, resourceName?: string) =>
    stack.formatArn({ service, resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  /** Every revision of the worker's task definition family. */
  const workerFamilyArn = arn("ecs", "task-definition", `${a.workerTaskDefinitionFamily}:*`);

  add(new iam.PolicyStatement({ sid: "PublishOrders", actions: ["sns:Publish"], resources: [a.topic.topicArn] }));
  add(
    new iam.PolicyStatement({
      sid: "ReadQueueDepth",
      actions: ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
      resources: [a.queue.queueArn, a.deadLetterQueue.queueArn],
    }),
  );
  // POST /ops/queue/purge empties either queue (the store marks the purged orders dead first).
  add(
    new iam.PolicyStatement({
      sid: "PurgeQueues",
      actions: ["sqs:PurgeQueue"],
      resources: [a.queue.queueArn, a.deadLetterQueue.queueArn],
    }),
  );
  // GET /ops/dlq reads dead letters (and puts them back); redrive takes them off once republished.
  add(
    new iam.PolicyStatement({
      sid: "InspectAndRedriveDeadLetters",
      actions: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"],
      resources: [a.deadLetterQueue.queueArn],
    }),
  );

  // The fleet (api/src/fleet/ecs.ts).
  add(
    new iam.PolicyStatement({
      sid: "DescribeWorkerService",
      actions: ["ecs:DescribeServices"],
      resources: [a.workerServiceArn],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "ScaleAndRollWorkerService",
      actions: ["ecs:UpdateService"],
      resources: [a.workerServiceArn],
      // A desired-count change names no task definition; a concurrency change must name the worker family.
      conditions: {
        ArnLikeIfExists: { "ecs:task-definition": workerFamilyArn },
      },
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "ListWorkerTasks",
      actions: ["ecs:ListTasks"],
      // ListTasks is authorised on container instances, which Fargate has none of: "*" narrowed to the cluster.
      resources: ["*"],
      conditions: { ArnEquals: { "ecs:cluster": arn("ecs", "cluster", a.clusterName) } },
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "DescribeWorkerTasks",
      actions: ["ecs:DescribeTasks"],
      resources: [arn("ecs", "task", `${a.clusterName}/*`)],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "RevisionWorkerTaskDefinition",
      actions: ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
      resources: ["*"],
    }),
  );
  // The fleet copies a revision's tags into the next (DescribeTaskDefinition include TAGS).
  add(
    new iam.PolicyStatement({
      sid: "ReadWorkerTaskDefinitionTags",
      actions: ["ecs:ListTagsForResource"],
      resources: [workerFamilyArn],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "TagWorkerTaskDefinitionRevisions",
      actions: ["ecs:TagResource"],
      resources: [workerFamilyArn],
      conditions: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "PassWorkerRoles",
      actions: ["iam:PassRole"],
      resources: a.workerRoles.map((r) => r.roleArn),
      conditions: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    }),
  );

  // The autoscaler (api/src/autoscaling/aws.ts): only the scalable target tagged as this stage's worker fleet.
  add(
    new iam.PolicyStatement({
      sid: "ScaleWorkerTarget",
      actions: [
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
      ],
      resources: [arn("application-autoscaling", "scalable-target", "*")],
      conditions: { StringEquals: { [`aws:ResourceTag/${SCALABLE_TARGET_TAG}`]: a.scalableTargetTagValue } },
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "ReadScaling",
      actions: [
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DescribeScalingActivities",
        "cloudwatch:DescribeAlarms",
      ],
      resources: ["*"],
    }),
  );
  // Target tracking creates and deletes its own alarms with the caller's rights; only those alarms.
  add(
    new iam.PolicyStatement({
      sid: "ManageTargetTrackingAlarms",
      actions: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
      resources: [
        stack.formatArn({
          service: "cloudwatch",
          resource: "alarm",
          resourceName: `TargetTracking-service/${a.clusterName}/*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );

  // History for the console: queue and Lambda metrics, and the Lambda's REPORT lines.
  add(new iam.PolicyStatement({ sid: "ReadMetrics", actions: ["cloudwatch:GetMetricData"], resources: ["*"] }));
  add(
    new iam.PolicyStatement({
      sid: "QueryLambdaReports",
      actions: ["logs:StartQuery", "logs:FilterLogEvents"],
      resources: [a.lambdaLogGroup.logGroupArn],
    }),
  );
  add(
    new iam.PolicyStatement({
      sid: "ReadQueryResults",
      actions: ["logs:GetQueryResults", "logs:StopQuery"],
      resources: ["*"],
    }),
  );
}
