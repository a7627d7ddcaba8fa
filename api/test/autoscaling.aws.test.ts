import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
import { CreateClusterCommand, CreateServiceCommand, ECSClient } from "@aws-sdk/client-ecs";
import { ValidationError } from "@surge/core";
import { tempSqliteStore } from "@surge/testing";
import { type Moto, startMoto } from "@surge/testing/moto";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ActivityLog } from "../src/autoscaling/activity-log.js";
import { AwsAutoscaler } from "../src/autoscaling/aws.js";
import type { ScalingPolicy } from "../src/autoscaling/policy.js";
import { AwsCallError } from "../src/aws-error.js";

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
  targetOldestAgeSeconds: null,
};

function autoscalerOn(client: ApplicationAutoScalingClient, store: ReturnType<typeof tempSqliteStore>["store"]) {
  return new AwsAutoscaler({
    client,
    // ARNs or names: the resource id and the metric dimensions take the names.
    cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/surge",
    service: "surge-worker",
    queueName: "surge-orders",
    store,
    activities: new ActivityLog(store),
    defaults: { ...policy, enabled: false },
  });
}

describe("AwsAutoscaler against moto's Application Auto Scaling", () => {
  let moto: Moto;
  let client: ApplicationAutoScalingClient;
  let t: ReturnType<typeof tempSqliteStore>;
  let autoscaler: AwsAutoscaler;
  beforeAll(async () => {
    moto = await startMoto();
    client = new ApplicationAutoScalingClient(moto.clientConfig);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    // moto checks the scalable target's ECS service exists, as AWS does.
    const ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new CreateClusterCommand({ clusterName: "surge" }));
    await ecs.send(new CreateServiceCommand({ cluster: "surge", serviceName: "surge-worker", desiredCount: 1 }));
    ecs.destroy();
    t = tempSqliteStore();
    autoscaler = autoscalerOn(client, t.store);
  });
  afterEach(async () => {
    await t.remove();
  });
  const registered = async () =>
    (
      await client.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          ResourceIds: [target.ResourceId],
        }),
      )
    ).ScalableTargets ?? [];
  const policies = async () =>
    (
      await client.send(
        new DescribeScalingPoliciesCommand({
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          ResourceId: target.ResourceId,
        }),
      )
    ).ScalingPolicies ?? [];

  it("enabling registers the scalable target (unsuspended) and a target tracking policy on backlog per task", async () => {
    const state = await autoscaler.setPolicy(policy, "ops-alice");

    expect(state).toMatchObject({ kind: "aws", enabled: true, controlledBy: "autoscaler", minTasks: 1, maxTasks: 40 });
    const [registeredTarget] = await registered();
    expect(registeredTarget).toMatchObject({
      ...target,
      MinCapacity: 1,
      MaxCapacity: 40,
      SuspendedState: {
        DynamicScalingInSuspended: false,
        DynamicScalingOutSuspended: false,
        ScheduledScalingSuspended: false,
      },
    });
    const list = await policies();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
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
    const metrics = list[0]?.TargetTrackingScalingPolicyConfiguration?.CustomizedMetricSpecification?.Metrics ?? [];
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
    const [activity] = await new ActivityLog(t.store).list(1);
    expect(activity).toMatchObject({ actor: "ops-alice", source: "aws" });
    expect(activity?.cause).toMatch(/^ops-alice enabled the policy: Application Auto Scaling controls/);
  });

  it("disabling keeps the target and policy but suspends dynamic scaling", async () => {
    await autoscaler.setPolicy(policy, "ops");
    const state = await autoscaler.setPolicy({ ...policy, enabled: false }, "ops");
    expect(state).toMatchObject({ enabled: false, controlledBy: "operator" });
    expect((await registered())[0]?.SuspendedState).toEqual({
      DynamicScalingInSuspended: true,
      DynamicScalingOutSuspended: true,
      ScheduledScalingSuspended: false,
    });
    expect(await policies()).toHaveLength(1);
  });

  it("an operator's manual scale suspends dynamic scaling on the target, min and max untouched, and reads back", async () => {
    await autoscaler.setPolicy({ ...policy, minTasks: 2, maxTasks: 36, targetBacklogPerTask: 25 }, "ops");
    const state = await autoscaler.suspend("ops-bob", "ops-bob set the desired count by hand (3 → 8)");
    expect((await registered())[0]).toMatchObject({
      MinCapacity: 2,
      MaxCapacity: 36,
      SuspendedState: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true },
    });
    // Read back from AWS (a fresh autoscaler: nothing cached), with who suspended it from the store.
    expect(await autoscalerOn(client, t.store).state()).toEqual(state);
    expect(state).toMatchObject({
      kind: "aws",
      enabled: false,
      controlledBy: "operator",
      minTasks: 2,
      maxTasks: 36,
      targetBacklogPerTask: 25,
      scaleOutCooldownSeconds: 30,
      scaleInCooldownSeconds: 120,
      suspended: { by: "ops-bob" },
    });
  });

  it("refuses minTasks 0: backlog per task has no value with no task running", async () => {
    await expect(autoscaler.setPolicy({ ...policy, minTasks: 0 }, "ops")).rejects.toBeInstanceOf(ValidationError);
    expect(await registered()).toHaveLength(0);
  });

  it("an age target adds a second target tracking policy on ApproximateAgeOfOldestMessage; null removes it", async () => {
    const state = await autoscaler.setPolicy({ ...policy, targetOldestAgeSeconds: 15 }, "ops");
    expect(state).toMatchObject({ enabled: true, targetBacklogPerTask: 50, targetOldestAgeSeconds: 15 });
    const byName = async () => new Map((await policies()).map((p) => [p.PolicyName, p]));
    const both = await byName();
    expect([...both.keys()].sort()).toEqual(["surge-backlog-per-task", "surge-oldest-message-age"]);
    expect(both.get("surge-oldest-message-age")).toMatchObject({
      ...target,
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 15,
        ScaleOutCooldown: 30,
        ScaleInCooldown: 120,
        DisableScaleIn: false,
        CustomizedMetricSpecification: {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateAgeOfOldestMessage",
          Dimensions: [{ Name: "QueueName", Value: "surge-orders" }],
          Statistic: "Maximum",
        },
      },
    });
    // Read back from AWS by a fresh autoscaler, whatever the store says.
    await t.store.setSetting("autoscaling.aws", { policy: { ...policy, targetOldestAgeSeconds: 99 } });
    expect(await autoscalerOn(client, t.store).state()).toMatchObject({ targetOldestAgeSeconds: 15 });

    // A new target updates the policy in place; disabling suspends both, keeping them.
    await autoscaler.setPolicy({ ...policy, targetOldestAgeSeconds: 40, enabled: false }, "ops");
    const updated = await byName();
    expect(updated.size).toBe(2);
    expect(updated.get("surge-oldest-message-age")?.TargetTrackingScalingPolicyConfiguration?.TargetValue).toBe(40);

    const backlogOnly = await autoscaler.setPolicy({ ...policy, targetOldestAgeSeconds: null }, "ops");
    expect(backlogOnly).toMatchObject({ enabled: true, targetOldestAgeSeconds: null });
    expect([...(await byName()).keys()]).toEqual(["surge-backlog-per-task"]);
    // Setting null again deletes nothing and fails nothing.
    await autoscaler.setPolicy({ ...policy, targetOldestAgeSeconds: null }, "ops");
    expect([...(await byName()).keys()]).toEqual(["surge-backlog-per-task"]);
  });

  it("answers 502 naming DescribeScalingActivities, which moto lacks, and never the SDK's dump", async () => {
    const error = await autoscaler.activities(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ status: 502, call: "ApplicationAutoScaling.DescribeScalingActivities" });
    expect((error as Error).message).toMatch(/does not implement it/);
    expect((error as Error).message).not.toMatch(/\$response|Deserialization|Unexpected token/);
  });
});

// Recorded shapes (aws-sdk-client-mock) only for DescribeScalingActivities, which moto 5.2.1 does not
// implement (docs/testing.md, "Recorded shapes").
describe("AwsAutoscaler activities on recorded shapes (moto lacks DescribeScalingActivities)", () => {
  // Created here, not at collection: the stub replaces every client's send, the moto tests' too.
  let aas: AwsClientStub<ApplicationAutoScalingClient>;
  beforeAll(() => {
    aas = mockClient(ApplicationAutoScalingClient);
  });
  let t: ReturnType<typeof tempSqliteStore>;
  let autoscaler: AwsAutoscaler;

  beforeEach(() => {
    aas.reset();
    t = tempSqliteStore();
    autoscaler = autoscalerOn(new ApplicationAutoScalingClient({ region: "us-east-1" }), t.store);
    aas.on(RegisterScalableTargetCommand).resolves({});
    aas.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    aas.on(DescribeScalingPoliciesCommand).resolves({ ScalingPolicies: [] });
  });
  afterEach(async () => {
    aas.reset();
    await t.remove();
  });
  afterAll(() => aas.restore());

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
        {
          ...target,
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          ActivityId: "a-0",
          Description: "Setting desired count to 12.",
          Cause:
            "monitor alarm TargetTracking-service/surge/surge-worker-AlarmHigh-2 in state ALARM triggered policy surge-oldest-message-age",
          StartTime: new Date(Date.now() - 7_200_000),
          StatusCode: "Successful",
        },
      ],
    });
    await autoscaler.suspend("ops-bob", "manual");

    const list = await autoscaler.activities(10);

    expect(aas.commandCalls(DescribeScalingActivitiesCommand)[0]?.args[0].input).toEqual({ ...target, MaxResults: 10 });
    expect(list.map((a) => [a.id.startsWith("a-") ? a.id : "local", a.direction, a.to, a.status, a.signal])).toEqual([
      ["local", "none", null, "successful", undefined],
      ["a-2", "out", 36, "successful", "backlog"],
      ["a-1", "in", 4, "in-progress", "backlog"],
      // The policy the alarm triggered names the signal.
      ["a-0", "out", 12, "successful", "age"],
    ]);
    expect(list[1]?.cause).toMatch(/^Setting desired count to 36\. — monitor alarm .*AlarmHigh/);
  });
});
