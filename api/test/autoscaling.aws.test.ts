import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
import { ValidationError } from "@surge/core";
import { tempSqliteStore } from "@surge/testing";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ActivityLog } from "../src/autoscaling/activity-log.js";
import { AwsAutoscaler } from "../src/autoscaling/aws.js";
import type { ScalingPolicy } from "../src/autoscaling/policy.js";

const target = {
  ServiceNamespace: "ecs",
  ScalableDimension: "ecs:service:DesiredCount",
  ResourceId: "service/surge/surge-worker",
};
const policy: ScalingPolicy = {
  enabled: true,
  minTasks: 1,
  maxTasks: 40,
  targetBacklogPerTask: 50,
  scaleOutCooldownSeconds: 30,
  scaleInCooldownSeconds: 120,
};

describe("AwsAutoscaler (Application Auto Scaling)", () => {
  const aas = mockClient(ApplicationAutoScalingClient);
  let t: ReturnType<typeof tempSqliteStore>;
  let autoscaler: AwsAutoscaler;

  beforeEach(() => {
    aas.reset();
    t = tempSqliteStore();
    autoscaler = new AwsAutoscaler({
      client: new ApplicationAutoScalingClient({ region: "us-east-1" }),
      // ARNs or names: the resource id and the metric dimensions take the names.
      cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/surge",
      service: "surge-worker",
      queueName: "surge-orders",
      store: t.store,
      activities: new ActivityLog(t.store),
      defaults: { ...policy, enabled: false },
    });
    aas.on(RegisterScalableTargetCommand).resolves({});
    aas.on(PutScalingPolicyCommand).resolves({ PolicyARN: "arn:policy" });
    aas.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    aas.on(DescribeScalingPoliciesCommand).resolves({ ScalingPolicies: [] });
    aas.on(DescribeScalingActivitiesCommand).resolves({ ScalingActivities: [] });
  });
  afterEach(async () => {
    aas.reset();
    await t.remove();
  });

  it("enabling registers the scalable target (unsuspended) and a target tracking policy on backlog per task", async () => {
    await autoscaler.setPolicy(policy, "ops-alice");

    expect(aas.commandCalls(RegisterScalableTargetCommand).map((c) => c.args[0].input)).toEqual([
      {
        ...target,
        MinCapacity: 1,
        MaxCapacity: 40,
        SuspendedState: {
          DynamicScalingInSuspended: false,
          DynamicScalingOutSuspended: false,
          ScheduledScalingSuspended: false,
        },
      },
    ]);
    expect(aas.commandCalls(PutScalingPolicyCommand)).toHaveLength(1);
    const [input] = aas.commandCalls(PutScalingPolicyCommand).map((c) => c.args[0].input);
    expect(input).toMatchObject({
      ...target,
      PolicyName: "surge-backlog-per-task",
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 50,
        ScaleOutCooldown: 30,
        ScaleInCooldown: 120,
        DisableScaleIn: false,
      },
    });
    // Backlog per task as metric math: the queue's visible messages over the service's running tasks.
    const metrics = input?.TargetTrackingScalingPolicyConfiguration?.CustomizedMetricSpecification?.Metrics ?? [];
    expect(
      metrics.map(({ Id, MetricStat: m, Expression, ReturnData }) =>
        [
          Id,
          m && `${m.Metric?.Namespace}/${m.Metric?.MetricName} ${m.Stat}`,
          m?.Metric?.Dimensions?.map((d) => `${d.Name}=${d.Value}`).join(","),
          Expression,
          ReturnData,
        ].filter((part) => part !== undefined),
      ),
    ).toEqual([
      ["visible", "AWS/SQS/ApproximateNumberOfMessagesVisible Sum", "QueueName=surge-orders", false],
      [
        "running",
        "ECS/ContainerInsights/RunningTaskCount Average",
        "ClusterName=surge,ServiceName=surge-worker",
        false,
      ],
      ["backlog_per_task", "visible / running", true],
    ]);
    expect(metrics.at(-1)?.Label).toBe("Backlog per task");
    const [activity] = await autoscaler.activities(1);
    expect(activity).toMatchObject({ actor: "ops-alice", source: "aws" });
    expect(activity?.cause).toMatch(/^ops-alice enabled the policy: Application Auto Scaling controls/);
  });

  it("disabling keeps the target and policy but suspends dynamic scaling", async () => {
    await autoscaler.setPolicy({ ...policy, enabled: false }, "ops");
    expect(aas.commandCalls(RegisterScalableTargetCommand)[0]?.args[0].input.SuspendedState).toEqual({
      DynamicScalingInSuspended: true,
      DynamicScalingOutSuspended: true,
      ScheduledScalingSuspended: false,
    });
    expect(aas.commandCalls(PutScalingPolicyCommand)).toHaveLength(1);
  });

  it("an operator's manual scale suspends dynamic scaling on the target, min and max untouched", async () => {
    const state = await autoscaler.suspend("ops-bob", "ops-bob set the desired count by hand (3 → 8)");
    expect(aas.commandCalls(RegisterScalableTargetCommand).map((c) => c.args[0].input)).toEqual([
      { ...target, SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true } },
    ]);
    expect(state.controlledBy).toBe("operator");
  });

  it("reads the policy and who controls the count back from AWS", async () => {
    aas.on(DescribeScalableTargetsCommand).resolves({
      ScalableTargets: [
        {
          ...target,
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          MinCapacity: 2,
          MaxCapacity: 36,
          RoleARN: "arn:role",
          CreationTime: new Date(),
          SuspendedState: { DynamicScalingOutSuspended: true, DynamicScalingInSuspended: true },
        },
      ],
    });
    aas.on(DescribeScalingPoliciesCommand).resolves({
      ScalingPolicies: [
        {
          ...target,
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          PolicyARN: "arn:policy",
          PolicyName: "surge-backlog-per-task",
          PolicyType: "TargetTrackingScaling",
          CreationTime: new Date(),
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 25, ScaleOutCooldown: 60, ScaleInCooldown: 300 },
        },
      ],
    });
    await autoscaler.suspend("ops-bob", "ops-bob set the desired count by hand (3 → 8)");

    const state = await autoscaler.state();

    expect(state).toMatchObject({
      kind: "aws",
      enabled: false,
      controlledBy: "operator",
      minTasks: 2,
      maxTasks: 36,
      targetBacklogPerTask: 25,
      scaleOutCooldownSeconds: 60,
      scaleInCooldownSeconds: 300,
      suspended: { by: "ops-bob" },
    });
    expect(aas.commandCalls(DescribeScalableTargetsCommand)[0]?.args[0].input).toEqual({
      ServiceNamespace: "ecs",
      ScalableDimension: "ecs:service:DesiredCount",
      ResourceIds: [target.ResourceId],
    });
  });

  it("lists DescribeScalingActivities with direction and cause, merged with operator actions, newest first", async () => {
    aas.on(DescribeScalingActivitiesCommand).resolves({
      ScalingActivities: [
        {
          ...target,
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          ActivityId: "a-2",
          Description: "Setting desired count to 36.",
          Cause:
            "monitor alarm TargetTracking-service/surge/surge-worker-AlarmHigh-1 in state ALARM triggered policy surge-backlog-per-task",
          StartTime: new Date(Date.now() - 60_000),
          StatusCode: "Successful",
        },
        {
          ...target,
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          ActivityId: "a-1",
          Description: "Setting desired count to 4.",
          Cause:
            "monitor alarm TargetTracking-service/surge/surge-worker-AlarmLow-1 in state ALARM triggered policy surge-backlog-per-task",
          StartTime: new Date(Date.now() - 3_600_000),
          StatusCode: "InProgress",
        },
      ],
    });
    await autoscaler.suspend("ops-bob", "manual");

    const list = await autoscaler.activities(10);

    expect(aas.commandCalls(DescribeScalingActivitiesCommand)[0]?.args[0].input).toEqual({ ...target, MaxResults: 10 });
    expect(list.map((a) => [a.id.startsWith("a-") ? a.id : "local", a.direction, a.to, a.status])).toEqual([
      ["local", "none", null, "successful"],
      ["a-2", "out", 36, "successful"],
      ["a-1", "in", 4, "in-progress"],
    ]);
    expect(list[1]?.cause).toMatch(/^Setting desired count to 36\. — monitor alarm .*AlarmHigh/);
  });

  it("refuses minTasks 0: backlog per task has no value with no task running", async () => {
    await expect(autoscaler.setPolicy({ ...policy, minTasks: 0 }, "ops")).rejects.toBeInstanceOf(ValidationError);
    expect(aas.commandCalls(RegisterScalableTargetCommand)).toHaveLength(0);
  });
});
