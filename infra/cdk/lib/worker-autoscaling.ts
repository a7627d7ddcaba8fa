import { Stack, Tags } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { SCALABLE_TARGET_TAG } from "./permissions.js";

/** Also the name the API's autoscaler writes under, so an operator's change updates this policy instead of fighting it. */
export const BACKLOG_POLICY_NAME = "surge-backlog-per-task";
/** The age policy's name, the API's too: `PUT /ops/autoscaling {"targetOldestAgeSeconds": …}` updates or deletes it. */
export const AGE_POLICY_NAME = "surge-oldest-message-age";

interface WorkerAutoscalingProps {
  clusterName: string;
  serviceName: string;
  queueName: string;
  minTasks: number;
  maxTasks: number;
  targetBacklogPerTask: number;
  scaleOutCooldownSeconds: number;
  scaleInCooldownSeconds: number;
  /**
   * Seconds the queue's oldest message may have waited (ApproximateAgeOfOldestMessage), tracked by a
   * second policy; null for none. Application Auto Scaling follows whichever policy asks for more tasks.
   */
  targetOldestAgeSeconds: number | null;
  /** Value of the surge:scalable-target tag: the API may only manage the target carrying it. */
  tagValue: string;
}

/** Target tracking on the worker service's desired count: visible messages ÷ running tasks, AWS's recipe for SQS workers. */
export class WorkerAutoscaling extends Construct {
  readonly target: appscaling.ScalableTarget;
  readonly policy: appscaling.CfnScalingPolicy;
  /** The target tracking policy on the oldest message's age, when there is a target. */
  readonly agePolicy: appscaling.CfnScalingPolicy | undefined;

  constructor(scope: Construct, id: string, props: WorkerAutoscalingProps) {
    super(scope, id);
    this.target = new appscaling.ScalableTarget(this, "Target", {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/${props.clusterName}/${props.serviceName}`,
      minCapacity: props.minTasks,
      maxCapacity: props.maxTasks,
      // ECS's service-linked role, as `service.autoScaleTaskCount()` uses: no extra role to trust.
      role: iam.Role.fromRoleArn(
        this,
        "ServiceLinkedRole",
        Stack.of(this).formatArn({
          service: "iam",
          region: "",
          resource: "role/aws-service-role/ecs.application-autoscaling.amazonaws.com",
          resourceName: "AWSServiceRoleForApplicationAutoScaling_ECSService",
        }),
      ),
    });
    Tags.of(this.target).add(SCALABLE_TARGET_TAG, props.tagValue);

    this.policy = new appscaling.CfnScalingPolicy(this, "BacklogPerTask", {
      policyName: BACKLOG_POLICY_NAME,
      policyType: "TargetTrackingScaling",
      scalingTargetId: this.target.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: props.targetBacklogPerTask,
        scaleOutCooldown: props.scaleOutCooldownSeconds,
        scaleInCooldown: props.scaleInCooldownSeconds,
        disableScaleIn: false,
        customizedMetricSpecification: {
          metrics: backlogPerTaskMetrics(props),
        },
      },
    });

    // Same fields, statistic and unit as the API's PutScalingPolicy input (AwsAutoscaler.agePolicyInput).
    this.agePolicy =
      props.targetOldestAgeSeconds === null
        ? undefined
        : new appscaling.CfnScalingPolicy(this, "OldestMessageAge", {
            policyName: AGE_POLICY_NAME,
            policyType: "TargetTrackingScaling",
            scalingTargetId: this.target.scalableTargetId,
            targetTrackingScalingPolicyConfiguration: {
              targetValue: props.targetOldestAgeSeconds,
              scaleOutCooldown: props.scaleOutCooldownSeconds,
              scaleInCooldown: props.scaleInCooldownSeconds,
              disableScaleIn: false,
              customizedMetricSpecification: {
                namespace: "AWS/SQS",
                metricName: "ApproximateAgeOfOldestMessage",
                dimensions: [{ name: "QueueName", value: props.queueName }],
                statistic: "Maximum",
                unit: "Seconds",
              },
            },
          });
  }
}

/** visible ÷ running with the same ids, statistics and expression as the API's PutScalingPolicy input. */
function backlogPerTaskMetrics(p: {
  clusterName: string;
  serviceName: string;
  queueName: string;
}): appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty[] {
  return [
    {
      id: "visible",
      metricStat: {
        metric: {
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: [{ name: "QueueName", value: p.queueName }],
        },
        stat: "Sum",
      },
      returnData: false,
    },
    {
      id: "running",
      metricStat: {
        metric: {
          namespace: "ECS/ContainerInsights",
          metricName: "RunningTaskCount",
          dimensions: [
            { name: "ClusterName", value: p.clusterName },
            { name: "ServiceName", value: p.serviceName },
          ],
        },
        stat: "Average",
      },
      returnData: false,
    },
    { id: "backlog_per_task", expression: "visible / running", label: "Backlog per task", returnData: true },
  ];
}
