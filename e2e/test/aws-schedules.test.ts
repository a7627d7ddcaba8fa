/**
 * Sale windows on AWS: the scheduled actions the API books on Application Auto Scaling, through the
 * real SDK client against moto, checked with DescribeScheduledActions and DescribeScalableTargets.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScheduledActionsCommand,
  RegisterScalableTargetCommand,
  type ScalableDimension,
  type ServiceNamespace,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { AwsScheduledCapacity, atSchedule } from "@surge/api/schedule";
import type { SaleWindow } from "@surge/core";
import { tempDir, waitFor } from "@surge/testing";
import { type Moto, startMoto } from "@surge/testing/moto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiProcess, type ProvisionedStack, provisionStack, STACK_REGION, startStackApi } from "./moto-stack.js";

const SERVICE = {
  ServiceNamespace: "ecs" as ServiceNamespace,
  ScalableDimension: "ecs:service:DesiredCount" as ScalableDimension,
  ResourceId: "service/surge/workers",
};
const LAMBDA = {
  ServiceNamespace: "lambda" as ServiceNamespace,
  ScalableDimension: "lambda:function:ProvisionedConcurrency" as ScalableDimension,
  ResourceId: "function:surge-orders:live",
};
const POLICY = { minTasks: 1, maxTasks: 10 };
const window = (id: string, overrides: Partial<SaleWindow> = {}): SaleWindow => ({
  id,
  startsAtMs: Date.parse("2030-11-27T09:00:00Z"),
  endsAtMs: Date.parse("2030-11-27T10:30:00Z"),
  minTasks: 24,
  lambdaProvisionedConcurrency: 10,
  createdAtMs: Date.now(),
  createdBy: "ops",
  cancelledAtMs: null,
  ...overrides,
});

describe("sale windows on AWS: Application Auto Scaling scheduled actions (moto)", () => {
  let moto: Moto;
  let client: ApplicationAutoScalingClient;
  let capacity: AwsScheduledCapacity;

  const actions = async (target: typeof SERVICE) =>
    (
      await client.send(
        new DescribeScheduledActionsCommand({
          ServiceNamespace: target.ServiceNamespace,
          ResourceId: target.ResourceId,
          ScalableDimension: target.ScalableDimension,
        }),
      )
    ).ScheduledActions ?? [];
  const target = async (t: typeof SERVICE) =>
    (
      await client.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: t.ServiceNamespace,
          ScalableDimension: t.ScalableDimension,
          ResourceIds: [t.ResourceId],
        }),
      )
    ).ScalableTargets?.[0];

  beforeAll(async () => {
    moto = await startMoto();
    client = new ApplicationAutoScalingClient(moto.clientConfig);
    // The worker service and its scalable target (moto checks the service exists).
    const ecs = new ECSClient(moto.clientConfig);
    await ecs.send(new CreateClusterCommand({ clusterName: "surge" }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "workers",
        containerDefinitions: [{ name: "worker", image: "surge-worker", memory: 512 }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: "surge",
        serviceName: "workers",
        taskDefinition: "workers",
        desiredCount: 1,
      }),
    );
    ecs.destroy();
    await client.send(new RegisterScalableTargetCommand({ ...SERVICE, MinCapacity: 1, MaxCapacity: 10 }));
    capacity = new AwsScheduledCapacity({
      client,
      cluster: "surge",
      service: "workers",
      lambdaFunction: "surge-orders:live",
    });
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it("books a window as a start and an end action on the service and on the Lambda alias", async () => {
    await capacity.booked(window("w1"), POLICY);
    const service = await actions(SERVICE);
    expect(service.map((a) => [a.ScheduledActionName, a.Schedule, a.ScalableTargetAction])).toEqual(
      expect.arrayContaining([
        ["surge-sale-w1-start", "at(2030-11-27T09:00:00)", { MinCapacity: 24, MaxCapacity: 24 }],
        ["surge-sale-w1-end", "at(2030-11-27T10:30:00)", { MinCapacity: 1, MaxCapacity: 10 }],
      ]),
    );
    const lambda = await actions(LAMBDA);
    expect(lambda.map((a) => [a.ScheduledActionName, a.ScalableTargetAction])).toEqual(
      expect.arrayContaining([
        ["surge-sale-w1-start", { MinCapacity: 10, MaxCapacity: 10 }],
        ["surge-sale-w1-end", { MinCapacity: 0, MaxCapacity: 0 }],
      ]),
    );
    expect(capacity.lambdaNote).toContain("function:surge-orders:live");
  });

  it("keeps the policy's maximum when the window's minimum is below it", async () => {
    await capacity.booked(window("w2", { minTasks: 4, lambdaProvisionedConcurrency: null }), POLICY);
    const start = (await actions(SERVICE)).find((a) => a.ScheduledActionName === "surge-sale-w2-start");
    expect(start?.ScalableTargetAction).toEqual({ MinCapacity: 4, MaxCapacity: 10 });
    expect((await actions(LAMBDA)).some((a) => a.ScheduledActionName?.startsWith("surge-sale-w2"))).toBe(false);
  });

  it("cancelling deletes both actions; an active window's capacity is given back at once", async () => {
    await capacity.cancelled(window("w1"), POLICY, true);
    const left = [...(await actions(SERVICE)), ...(await actions(LAMBDA))].map((a) => a.ScheduledActionName);
    expect(left.filter((n) => n?.startsWith("surge-sale-w1"))).toEqual([]);
    expect(await target(SERVICE)).toMatchObject({ MinCapacity: 1, MaxCapacity: 10 });
    expect(await target(LAMBDA)).toMatchObject({ MinCapacity: 0, MaxCapacity: 0 });
    // A second cancel finds nothing to delete and still succeeds.
    await capacity.cancelled(window("w1"), POLICY, false);
  });

  it("writes AWS's one-time schedule in UTC to the second", () => {
    expect(atSchedule(Date.parse("2030-01-02T03:04:05.678Z"))).toBe("at(2030-01-02T03:04:05)");
  });
});

describe("sale windows through the API bundle with FLEET=ecs (the CDK stack's environment, on moto)", () => {
  const TOKEN = `aws-schedules-${crypto.randomUUID()}`;
  let moto: Moto;
  let stack: ProvisionedStack;
  let api: ApiProcess;
  let data: ReturnType<typeof tempDir>;
  let client: ApplicationAutoScalingClient;

  const ops = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}/ops${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: test reads of JSON answers
    return { status: res.status, body: (await res.json()) as any };
  };
  const service = () => ({
    ServiceNamespace: "ecs" as ServiceNamespace,
    ScalableDimension: "ecs:service:DesiredCount" as ScalableDimension,
    ResourceId: stack.resourceId,
  });
  const names = async () =>
    (
      (
        await client.send(
          new DescribeScheduledActionsCommand({ ServiceNamespace: "ecs", ResourceId: stack.resourceId }),
        )
      ).ScheduledActions ?? []
    ).map((a) => a.ScheduledActionName);

  beforeAll(async () => {
    moto = await startMoto(STACK_REGION);
    stack = await provisionStack(moto);
    data = tempDir("surge-aws-schedules-");
    client = new ApplicationAutoScalingClient({ ...moto.clientConfig, region: STACK_REGION });
    api = await startStackApi(moto, stack, TOKEN, data.path);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    client?.destroy();
    await moto?.stop();
    data?.remove();
  });

  it("books the window on the service's scalable target, holds the floor against a manual scale, and cancels", async () => {
    const policy = await ops("GET", "/autoscaling");
    const created = await ops("POST", "/schedules", {
      startsAt: new Date(Date.now() + 2000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      minTasks: 3,
      lambdaProvisionedConcurrency: 5,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // The stack passes a bare function name: provisioned concurrency is kept, and the answer says why it is not applied.
    expect(created.body.lambdaNote).toMatch(/recorded only: LAMBDA_FUNCTION_NAME names no alias/);
    expect(await names()).toEqual(expect.arrayContaining([`surge-sale-${id}-start`, `surge-sale-${id}-end`]));
    const start = (
      await client.send(
        new DescribeScheduledActionsCommand({ ...service(), ScheduledActionNames: [`surge-sale-${id}-start`] }),
      )
    ).ScheduledActions?.[0];
    expect(start?.ScalableTargetAction).toEqual({ MinCapacity: 3, MaxCapacity: Math.max(3, policy.body.maxTasks) });

    // Once active, the API's scheduler knows the floor: a manual scale below it is refused.
    await waitFor(async () => (await ops("GET", "/schedules")).body.activeId === id, {
      what: "the window to be active",
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    await waitFor(async () => (await ops("GET", "/autoscaling")).body.scheduledFloor?.windowId === id, {
      what: "the scheduler to hold the window's floor",
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    const below = await ops("PUT", "/fleet", { desiredCount: 1 });
    expect(below.status).toBe(409);
    expect(below.body.error).toContain(`sale window ${id}`);

    const cancelled = await ops("DELETE", `/schedules/${id}`);
    expect(cancelled).toMatchObject({ status: 200, body: { state: "cancelled" } });
    expect((await names()).filter((n) => n?.includes(id))).toEqual([]);
    const target = (
      await client.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: "ecs",
          ResourceIds: [stack.resourceId],
          ScalableDimension: "ecs:service:DesiredCount",
        }),
      )
    ).ScalableTargets?.[0];
    expect(target).toMatchObject({ MinCapacity: policy.body.minTasks, MaxCapacity: policy.body.maxTasks });
  }, 60_000);
});
