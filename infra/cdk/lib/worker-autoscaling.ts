import { Stack, Tags } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { SCALABLE_TARGET_TAG } from "./permissions.js";

/**
 * The target tracking policy's name. The API's autoscaler (api/src/autoscaling/aws.ts)
 * writes its policy under the same name, so an operator's change updates this
 * policy instead of adding a second one that would fight it.
 */
export const BACKLOG_POLICY_NAME = "surge-backlog-per-task";

interface WorkerAutoscalingProps {
  clusterName: string;
  serviceName: string;
  queueName: string;
  minTasks: number;
  maxTasks: number;
  targetBacklogPerTask: number;
  scaleOutCooldownSeconds: number;
  scaleInCooldownSeconds: number;
  /** Value of the surge:scalable-target tag: the API may only manage the target carrying it. */
  tagValue: string;
}

/**
 * Application Auto Scaling on the worker service's desired count, tracking
 * backlog per task the way AWS recommends for SQS workers: CloudWatch metric
 * math over the queue's visible messages divided by the service's running tasks
 * (Container Insights), held at acceptable latency ÷ time per order.
 */
export class WorkerAutoscaling extends Construct {
  readonly target: appscaling.ScalableTarget;
  readonly policy: appscaling.CfnScalingPolicy;

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
  }
}

/**
 * visible ÷ running, as target tracking metric queries. Same ids, statistics
 * and expression as the API's PutScalingPolicy input, so the deployed policy and
 * the one the ops plane writes are the same policy.
 */
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
