import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Task,
  type TaskDefinition,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { type Moto, startMoto } from "@surge/testing/moto";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AwsCallError } from "../src/aws-error.js";
import { EcsFleet } from "../src/fleet/ecs.js";
import { fleetConformance } from "./fleet-conformance.js";

const CLUSTER = "surge";
const SERVICE = "surge-worker";
const FAMILY = "surge-worker";
const arn = (revision: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/${FAMILY}:${revision}`;

/** A task definition as DescribeTaskDefinition returns it, read-only fields included. */
const definition = (revision: number, concurrency: string): TaskDefinition => ({
  taskDefinitionArn: arn(revision),
  family: FAMILY,
  revision,
  status: "ACTIVE",
  registeredAt: new Date("2026-11-01T00:00:00Z"),
  registeredBy: "arn:aws:iam::123456789012:role/deployer",
  compatibilities: ["EC2", "FARGATE"],
  requiresAttributes: [{ name: "com.amazonaws.ecs.capability.logging-driver.awslogs" }],
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  executionRoleArn: "arn:aws:iam::123456789012:role/exec",
  taskRoleArn: "arn:aws:iam::123456789012:role/task",
  runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
  containerDefinitions: [
    {
      name: "worker",
      image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/surge-worker:abc123",
      essential: true,
      environment: [
        { name: "PAYMENT_SLOTS", value: "5" },
        { name: "WORKER_CONCURRENCY", value: concurrency },
      ],
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/surge/worker" } },
    },
    { name: "otel", image: "public.ecr.aws/otel:latest", essential: false },
  ],
});

/**
 * A small simulated ECS: the mock answers from state the commands change, so
 * the Fleet conformance suite can run against the adapter. Tasks start at once.
 */
function simulatedEcs(ecs: ReturnType<typeof mockClient>) {
  const definitions = new Map<string, TaskDefinition>([[arn(3), definition(3, "5")]]);
  let current = arn(3);
  let desired = 1;
  let tasks: Task[] = [];
  let seq = 0;
  const converge = () => {
    tasks = tasks.filter((t) => t.taskDefinitionArn === current);
    while (tasks.length < desired) {
      tasks.push({
        taskArn: `arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/t${++seq}`,
        taskDefinitionArn: current,
        lastStatus: "RUNNING",
        desiredStatus: "RUNNING",
        startedAt: new Date(Date.UTC(2026, 10, 26, 12, 0, seq)),
      });
    }
    tasks = tasks.slice(0, desired);
  };
  converge();
  ecs.on(DescribeServicesCommand).callsFake(() => ({
    services: [
      {
        serviceName: SERVICE,
        desiredCount: desired,
        runningCount: tasks.length,
        pendingCount: 0,
        taskDefinition: current,
        deployments: [{ status: "PRIMARY", taskDefinition: current, failedTasks: 0 }],
      },
    ],
  }));
  ecs.on(UpdateServiceCommand).callsFake((input: { desiredCount?: number; taskDefinition?: string }) => {
    if (input.desiredCount !== undefined) desired = input.desiredCount;
    if (input.taskDefinition !== undefined) current = input.taskDefinition;
    converge();
    return { service: { serviceName: SERVICE } };
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: definitions.get(input.taskDefinition),
    tags: [{ key: "app", value: "surge" }],
  }));
  ecs.on(RegisterTaskDefinitionCommand).callsFake((input: TaskDefinition) => {
    const next = { ...input, taskDefinitionArn: arn(3 + definitions.size), revision: 3 + definitions.size };
    definitions.set(next.taskDefinitionArn, next);
    return { taskDefinition: next };
  });
  ecs.on(ListTasksCommand).callsFake((input: { desiredStatus: string }) => ({
    taskArns: input.desiredStatus === "RUNNING" ? tasks.map((t) => t.taskArn) : [],
  }));
  ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
    tasks: tasks.filter((t) => input.tasks.includes(t.taskArn ?? "")),
  }));
}

// Recorded shapes (aws-sdk-client-mock) only for what moto cannot answer: moto's ECS schedules no tasks for a
// service (runningCount stays 0, ListTasks lists none), so converging fleets and task pages are simulated
// here; everything else runs against moto below (docs/testing.md, "Recorded shapes").
describe("EcsFleet on recorded shapes (moto runs no service tasks)", () => {
  const ecs = mockClient(ECSClient);
  let fleet: EcsFleet;
  beforeEach(() => {
    ecs.reset();
    fleet = new EcsFleet({ ecs: new ECSClient({ region: "us-east-1" }), cluster: CLUSTER, service: SERVICE });
  });
  afterEach(() => ecs.reset());
  // The stub replaces every ECSClient's send: the moto tests below need the real one back.
  afterAll(() => ecs.restore());

  describe("against a simulated ECS service", () => {
    beforeEach(() => simulatedEcs(ecs));
    fleetConformance(() => fleet);
  });

  it("describes running / pending from DescribeServices and lists tasks in pages of 100", async () => {
    const arns = Array.from({ length: 130 }, (_, i) => `arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/id${i}`);
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          desiredCount: 130,
          runningCount: 128,
          pendingCount: 2,
          taskDefinition: arn(3),
          deployments: [{ failedTasks: 2 }, { failedTasks: 1 }],
        },
      ],
    });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: definition(3, "12") });
    ecs
      .on(ListTasksCommand, { desiredStatus: "RUNNING" })
      .resolvesOnce({ taskArns: arns.slice(0, 100), nextToken: "page-2" })
      .resolvesOnce({ taskArns: arns.slice(100) });
    ecs.on(ListTasksCommand, { desiredStatus: "STOPPED" }).resolves({ taskArns: [] });
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      tasks: input.tasks.map((taskArn, i) => ({
        taskArn,
        taskDefinitionArn: arn(3),
        lastStatus: i < 2 && input.tasks.length === 30 ? "PROVISIONING" : "RUNNING",
        desiredStatus: "RUNNING",
        createdAt: new Date("2026-11-26T12:00:00Z"),
      })),
    }));

    const state = await fleet.describe();

    expect(state).toMatchObject({
      desiredCount: 130,
      running: 128,
      pending: 2,
      stopping: 0,
      concurrency: 12,
      restarts: 3,
    });
    expect(state.tasks).toHaveLength(130);
    expect(state.tasks.filter((t) => t.status === "pending")).toHaveLength(2);
    expect(state.tasks[0]).toMatchObject({
      taskId: "id0",
      revision: `${FAMILY}:3`,
      startedAt: "2026-11-26T12:00:00.000Z",
    });
    const lists = ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input);
    expect(lists).toContainEqual({ cluster: CLUSTER, serviceName: SERVICE, desiredStatus: "RUNNING" });
    expect(lists).toContainEqual({
      cluster: CLUSTER,
      serviceName: SERVICE,
      desiredStatus: "RUNNING",
      nextToken: "page-2",
    });
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks?.length)).toEqual([100, 30]);
  });
});

/** The task definition's registrable part, as CloudFormation (or `aws ecs register-task-definition`) gives it. */
function registrable(concurrency: string): RegisterTaskDefinitionCommandInput {
  const {
    taskDefinitionArn: _arn,
    revision: _revision,
    status: _status,
    registeredAt: _at,
    registeredBy: _by,
    compatibilities: _c,
    requiresAttributes: _r,
    ...input
  } = definition(3, concurrency);
  return { ...input, family: FAMILY, containerDefinitions: input.containerDefinitions ?? [] };
}

describe("EcsFleet against moto's ECS", () => {
  let moto: Moto;
  let ecs: ECSClient;
  let fleet: EcsFleet;
  beforeAll(async () => {
    moto = await startMoto();
    ecs = new ECSClient(moto.clientConfig);
  }, 60_000);
  afterAll(async () => {
    ecs?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        ...registrable("5"),
        tags: [{ key: "app", value: "surge" }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: SERVICE,
        taskDefinition: registered.taskDefinition?.taskDefinitionArn,
        desiredCount: 1,
        launchType: "FARGATE",
      }),
    );
    fleet = new EcsFleet({ ecs, cluster: CLUSTER, service: SERVICE });
  });
  const service = async () =>
    (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }))).services?.[0];

  it("sets the desired count with UpdateService", async () => {
    const state = await fleet.setDesiredCount(12);
    expect(state).toMatchObject({ desiredCount: 12, concurrency: 5 });
    expect((await service())?.desiredCount).toBe(12);
  });

  it("changes concurrency the ECS way: a new revision equal to the old but for WORKER_CONCURRENCY, then UpdateService", async () => {
    const before = await service();
    const state = await fleet.setConcurrency(20);
    expect(state.concurrency).toBe(20);
    const after = await service();
    expect(after?.taskDefinition).not.toBe(before?.taskDefinition);
    const out = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: after?.taskDefinition, include: ["TAGS"] }),
    );
    expect(out.taskDefinition?.revision).toBe(2);
    const old = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: before?.taskDefinition }));
    const strip = (d?: TaskDefinition) => ({
      ...d,
      taskDefinitionArn: undefined,
      revision: undefined,
      registeredAt: undefined,
      containerDefinitions: d?.containerDefinitions?.map((c) => ({
        ...c,
        environment: c.environment?.filter((e) => e.name !== "WORKER_CONCURRENCY"),
      })),
    });
    // Everything RegisterTaskDefinition accepts was copied; only WORKER_CONCURRENCY changed.
    expect(strip(out.taskDefinition)).toEqual(strip(old.taskDefinition));
    expect(out.taskDefinition?.containerDefinitions?.[0]?.environment).toContainEqual({
      name: "WORKER_CONCURRENCY",
      value: "20",
    });
    expect(out.tags).toEqual([{ key: "app", value: "surge" }]);
  });

  it("registers no revision when the concurrency is already the one asked for", async () => {
    const before = await service();
    await fleet.setConcurrency(5);
    expect((await service())?.taskDefinition).toBe(before?.taskDefinition);
  });

  it("answers 502 naming the call when ECS refuses it, and names a missing service", async () => {
    const elsewhere = new EcsFleet({ ecs, cluster: "no-such-cluster", service: SERVICE });
    const error = await elsewhere.setDesiredCount(3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ status: 502, call: "ECS.UpdateService" });
    expect((error as Error).message).toMatch(
      /^AWS call ECS\.UpdateService failed: AWS refused it \(ClusterNotFoundException/,
    );
    const missing = new EcsFleet({ ecs, cluster: CLUSTER, service: "no-such-service" });
    await expect(missing.describe()).rejects.toThrow(`ECS service no-such-service in ${CLUSTER}: MISSING`);
  });
});
