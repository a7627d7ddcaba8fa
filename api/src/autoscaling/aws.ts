import { EventEmitter } from "node:events";
import {
  type ApplicationAutoScalingClient,
  type ScalingActivity as AwsScalingActivity,
  DeleteScalingPolicyCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  type PutScalingPolicyCommandInput,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
import { type OrderStore, ValidationError } from "@surge/core";
import { callAws } from "../aws-error.js";
import type { ActivityLog } from "./activity-log.js";
import type { ScalingPolicy } from "./policy.js";
import type {
  ActivityStatus,
  Autoscaler,
  AutoscalingState,
  ScaledEvent,
  ScalingActivity,
  ScheduledFloor,
  Suspension,
} from "./types.js";

interface AwsAutoscalerOptions {
  client: ApplicationAutoScalingClient;
  /** The ECS cluster and worker service (names or ARNs) whose desired count is scaled. */
  cluster: string;
  service: string;
  /** The orders queue's name: the backlog metric's dimension. */
  queueName: string;
  /** Kept beside AWS's state: who suspended dynamic scaling, and why. */
  store: Pick<OrderStore, "getSetting" | "setSetting">;
  activities: ActivityLog;
  /** The policy shown before one was ever registered. */
  defaults: ScalingPolicy;
  /** Name of the target tracking policy. Default "surge-backlog-per-task". */
  policyName?: string;
  /** Name of the target tracking policy on the oldest message's age. Default "surge-oldest-message-age". */
  agePolicyName?: string;
}

const NAMESPACE = "ecs" as const;
const DIMENSION = "ecs:service:DesiredCount" as const;
const SETTING = "autoscaling.aws";

interface StoredAws {
  policy: ScalingPolicy;
  suspended?: Suspension | undefined;
}

/**
 * The autoscaler on AWS: Application Auto Scaling evaluates a target tracking policy on backlog per
 * task (metric math); activities merge AWS's with the operator's own from the local log.
 */
export class AwsAutoscaler extends EventEmitter<{ scaled: [ScaledEvent] }> implements Autoscaler {
  readonly kind = "aws" as const;
  readonly #o: AwsAutoscalerOptions;
  /** The service's desired count as a scalable target, as every call names it. */
  readonly #target: { ServiceNamespace: typeof NAMESPACE; ScalableDimension: typeof DIMENSION; ResourceId: string };
  readonly #policyName: string;
  readonly #agePolicyName: string;
  #floor: ScheduledFloor | null = null;

  constructor(options: AwsAutoscalerOptions) {
    super();
    this.#o = options;
    const resourceId = `service/${lastSegment(options.cluster)}/${lastSegment(options.service)}`;
    this.#target = { ServiceNamespace: NAMESPACE, ScalableDimension: DIMENSION, ResourceId: resourceId };
    this.#policyName = options.policyName ?? "surge-backlog-per-task";
    this.#agePolicyName = options.agePolicyName ?? "surge-oldest-message-age";
  }

  /** Application Auto Scaling evaluates on AWS: there is no loop to run here. */
  start(): void {}

  async close(): Promise<void> {}

  /** Scheduled actions scale the target on AWS (api/src/schedule/capacity.ts); the floor is kept for the manual-scale check. */
  async setScheduledFloor(floor: ScheduledFloor | null): Promise<void> {
    this.#floor = floor;
  }

  scheduledFloor(): ScheduledFloor | null {
    return this.#floor;
  }

  async state(): Promise<AutoscalingState> {
    const stored = await this.#stored();
    const [targets, policies] = await Promise.all([
      this.#send("DescribeScalableTargets", () =>
        this.#o.client.send(
          new DescribeScalableTargetsCommand({
            ServiceNamespace: NAMESPACE,
            ScalableDimension: DIMENSION,
            ResourceIds: [this.#target.ResourceId],
          }),
        ),
      ),
      this.#send("DescribeScalingPolicies", () =>
        this.#o.client.send(
          new DescribeScalingPoliciesCommand({
            ...this.#target,
            PolicyNames: [this.#policyName, this.#agePolicyName],
          }),
        ),
      ),
    ]);
    const target = targets.ScalableTargets?.[0];
    const tracking = (name: string) =>
      policies.ScalingPolicies?.find((p) => p.PolicyName === name)?.TargetTrackingScalingPolicyConfiguration;
    const backlog = tracking(this.#policyName);
    const age = tracking(this.#agePolicyName);
    const suspended =
      target?.SuspendedState?.DynamicScalingOutSuspended === true ||
      target?.SuspendedState?.DynamicScalingInSuspended === true;
    // AWS is the truth for what is registered; the stored record fills in what AWS does not keep.
    const policy: ScalingPolicy = {
      enabled: target !== undefined && backlog !== undefined && !suspended,
      minTasks: target?.MinCapacity ?? stored.policy.minTasks,
      maxTasks: target?.MaxCapacity ?? stored.policy.maxTasks,
      targetBacklogPerTask: backlog?.TargetValue ?? stored.policy.targetBacklogPerTask,
      scaleOutCooldownSeconds: backlog?.ScaleOutCooldown ?? stored.policy.scaleOutCooldownSeconds,
      scaleInCooldownSeconds: backlog?.ScaleInCooldown ?? stored.policy.scaleInCooldownSeconds,
      // Registered policies say whether there is an age target; before any, the stored policy does.
      targetOldestAgeSeconds:
        age?.TargetValue ?? (backlog === undefined ? (stored.policy.targetOldestAgeSeconds ?? null) : null),
    };
    return {
      kind: "aws",
      ...policy,
      controlledBy: policy.enabled ? "autoscaler" : "operator",
      ...(suspended && stored.suspended && { suspended: stored.suspended }),
      ...(this.#floor && { scheduledFloor: this.#floor }),
    };
  }

  async setPolicy(policy: ScalingPolicy, actor: string): Promise<AutoscalingState> {
    if (policy.minTasks < 1) {
      // Backlog ÷ running tasks has no value with no tasks: target tracking could never scale out from 0.
      const message = "must be at least 1 on ECS (backlog per task is undefined with 0 running tasks)";
      throw new ValidationError(`invalid autoscaling policy: minTasks: ${message}`, [{ field: "minTasks", message }]);
    }
    const off = !policy.enabled;
    await this.#send("RegisterScalableTarget", () =>
      this.#o.client.send(
        new RegisterScalableTargetCommand({
          ...this.#target,
          MinCapacity: policy.minTasks,
          MaxCapacity: policy.maxTasks,
          SuspendedState: {
            DynamicScalingInSuspended: off,
            DynamicScalingOutSuspended: off,
            ScheduledScalingSuspended: false,
          },
        }),
      ),
    );
    await this.#send("PutScalingPolicy", () =>
      this.#o.client.send(new PutScalingPolicyCommand(this.policyInput(policy))),
    );
    await this.#putOrDeleteAgePolicy(policy);
    const before = await this.#stored();
    await this.#o.store.setSetting<StoredAws>(SETTING, {
      policy,
      suspended: policy.enabled ? undefined : before.suspended,
    });
    if (policy.enabled !== before.policy.enabled) {
      await this.#o.activities.recordControl(
        actor,
        policy.enabled
          ? `${actor} enabled the policy: Application Auto Scaling controls the desired count`
          : `${actor} disabled the policy: dynamic scaling suspended on the scalable target`,
        "aws",
      );
    }
    return this.state();
  }

  async suspend(actor: string, reason: string): Promise<AutoscalingState> {
    const before = await this.#stored();
    // Only the suspended state changes: min and max stay as registered.
    await this.#send("RegisterScalableTarget", () =>
      this.#o.client.send(
        new RegisterScalableTargetCommand({
          ...this.#target,
          SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true },
        }),
      ),
    );
    const suspended: Suspension = { at: new Date().toISOString(), by: actor, reason };
    await this.#o.store.setSetting<StoredAws>(SETTING, { policy: { ...before.policy, enabled: false }, suspended });
    await this.#o.activities.recordSuspension(actor, reason, "aws");
    return this.state();
  }

  async activities(limit: number): Promise<ScalingActivity[]> {
    const names = { backlog: this.#policyName, age: this.#agePolicyName };
    const [aws, local] = await Promise.all([
      this.#send("DescribeScalingActivities", () =>
        this.#o.client.send(
          new DescribeScalingActivitiesCommand({
            ...this.#target,
            MaxResults: Math.min(50, limit),
          }),
        ),
      ),
      this.#o.activities.list(limit),
    ]);
    return [...(aws.ScalingActivities ?? []).map((a) => fromAws(a, names)), ...local]
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, limit);
  }

  /** The target tracking policy: backlog per task as metric math, AWS's recommendation for SQS workers. */
  policyInput(policy: ScalingPolicy): PutScalingPolicyCommandInput {
    return {
      PolicyName: this.#policyName,
      ...this.#target,
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: policy.targetBacklogPerTask,
        ScaleOutCooldown: policy.scaleOutCooldownSeconds,
        ScaleInCooldown: policy.scaleInCooldownSeconds,
        DisableScaleIn: false,
        CustomizedMetricSpecification: {
          Metrics: [
            {
              Id: "visible",
              MetricStat: {
                Metric: {
                  Namespace: "AWS/SQS",
                  MetricName: "ApproximateNumberOfMessagesVisible",
                  Dimensions: [{ Name: "QueueName", Value: this.#o.queueName }],
                },
                Stat: "Sum",
              },
              ReturnData: false,
            },
            {
              Id: "running",
              MetricStat: {
                Metric: {
                  Namespace: "ECS/ContainerInsights",
                  MetricName: "RunningTaskCount",
                  Dimensions: [
                    { Name: "ClusterName", Value: lastSegment(this.#o.cluster) },
                    { Name: "ServiceName", Value: lastSegment(this.#o.service) },
                  ],
                },
                Stat: "Average",
              },
              ReturnData: false,
            },
            { Id: "backlog_per_task", Expression: "visible / running", Label: "Backlog per task", ReturnData: true },
          ],
        },
      },
    };
  }

  /**
   * The second target tracking policy, on the queue's ApproximateAgeOfOldestMessage. Application
   * Auto Scaling scales out when either policy asks and in only when both allow: the larger need.
   */
  agePolicyInput(policy: ScalingPolicy & { targetOldestAgeSeconds: number }): PutScalingPolicyCommandInput {
    return {
      PolicyName: this.#agePolicyName,
      ...this.#target,
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: policy.targetOldestAgeSeconds,
        ScaleOutCooldown: policy.scaleOutCooldownSeconds,
        ScaleInCooldown: policy.scaleInCooldownSeconds,
        DisableScaleIn: false,
        CustomizedMetricSpecification: {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateAgeOfOldestMessage",
          Dimensions: [{ Name: "QueueName", Value: this.#o.queueName }],
          Statistic: "Maximum",
          Unit: "Seconds",
        },
      },
    };
  }

  /** Puts the age policy, or deletes it when the target is null (backlog only). */
  async #putOrDeleteAgePolicy(policy: ScalingPolicy): Promise<void> {
    const seconds = policy.targetOldestAgeSeconds;
    if (seconds !== null && seconds !== undefined) {
      const input = this.agePolicyInput({ ...policy, targetOldestAgeSeconds: seconds });
      await this.#send("PutScalingPolicy", () => this.#o.client.send(new PutScalingPolicyCommand(input)));
      return;
    }
    const existing = await this.#send("DescribeScalingPolicies", () =>
      this.#o.client.send(new DescribeScalingPoliciesCommand({ ...this.#target, PolicyNames: [this.#agePolicyName] })),
    );
    // By name: an endpoint may ignore the PolicyNames filter (moto does) and list the backlog policy.
    if (!(existing.ScalingPolicies ?? []).some((p) => p.PolicyName === this.#agePolicyName)) return;
    await this.#send("DeleteScalingPolicy", () =>
      this.#o.client.send(new DeleteScalingPolicyCommand({ ...this.#target, PolicyName: this.#agePolicyName })),
    );
  }

  async #stored(): Promise<StoredAws> {
    return (await this.#o.store.getSetting<StoredAws>(SETTING)) ?? { policy: this.#o.defaults };
  }

  #send<T>(what: string, call: () => Promise<T>): Promise<T> {
    return callAws(`ApplicationAutoScaling.${what}`, call);
  }
}

const STATUS: Record<string, ActivityStatus> = {
  Successful: "successful",
  Failed: "failed",
  Unfulfilled: "failed",
  Overridden: "failed",
  InProgress: "in-progress",
  Pending: "in-progress",
};

/**
 * An Application Auto Scaling activity in the activity log's terms. Target tracking alarms say the
 * direction; the policy the alarm triggered names the signal.
 */
function fromAws(activity: AwsScalingActivity, policyNames: { backlog: string; age: string }): ScalingActivity {
  const cause = activity.Cause ?? "";
  const to = /desired count to (\d+)/i.exec(activity.Description ?? "")?.[1];
  return {
    id: activity.ActivityId ?? "",
    at: (activity.StartTime ?? new Date(0)).toISOString(),
    actor: "autoscaler",
    direction: /AlarmHigh/.test(cause) ? "out" : /AlarmLow/.test(cause) ? "in" : "none",
    status: STATUS[activity.StatusCode ?? ""] ?? "in-progress",
    from: null,
    to: to === undefined ? null : Number(to),
    cause: [activity.Description, cause, activity.StatusMessage].filter(Boolean).join(" — "),
    ...signalOf(cause, policyNames),
    source: "aws",
  };
}

/** "triggered policy surge-oldest-message-age" → the age signal; a min/max change → the bounds. */
function signalOf(cause: string, names: { backlog: string; age: string }): Pick<ScalingActivity, "signal"> {
  if (cause.includes(`policy ${names.age}`)) return { signal: "age" };
  if (cause.includes(`policy ${names.backlog}`)) return { signal: "backlog" };
  if (/(minimum|maximum) capacity/i.test(cause)) return { signal: "bounds" };
  return {};
}

function lastSegment(nameOrArn: string): string {
  return nameOrArn.split("/").pop() ?? nameOrArn;
}
