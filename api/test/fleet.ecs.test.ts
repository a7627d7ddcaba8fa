import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Task,
  type TaskDefinition,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EcsFleet } from "../src/fleet/ecs.js";
import { FleetUnavailableError } from "../src/fleet/types.js";
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

describe("EcsFleet", () => {
  const ecs = mockClient(ECSClient);
  let fleet: EcsFleet;
  beforeEach(() => {
    ecs.reset();
    fleet = new EcsFleet({ ecs: new ECSClient({ region: "us-east-1" }), cluster: CLUSTER, service: SERVICE });
  });
  afterEach(() => ecs.reset());

  describe("against a simulated ECS service", () => {
    beforeEach(() => simulatedEcs(ecs));
    fleetConformance(() => fleet);
  });

  it("sets the desired count with UpdateService and nothing else", async () => {
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ desiredCount: 12, runningCount: 9, pendingCount: 3, taskDefinition: arn(3) }],
    });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: definition(3, "5") });
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    const state = await fleet.setDesiredCount(12);

    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: CLUSTER, service: SERVICE, desiredCount: 12 },
    ]);
    expect(state).toMatchObject({ desiredCount: 12, running: 9, pending: 3, concurrency: 5 });
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

  it("changes concurrency the ECS way: a new task definition revision, then UpdateService onto it", async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ desiredCount: 4, taskDefinition: arn(3) }] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: definition(3, "5"),
      tags: [{ key: "app", value: "surge" }],
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: arn(4), revision: 4 } });
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    await fleet.setConcurrency(20);

    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0]?.args[0].input).toEqual({
      taskDefinition: arn(3),
      include: ["TAGS"],
    });
    const [register] = ecs.commandCalls(RegisterTaskDefinitionCommand).map((c) => c.args[0].input);
    const {
      taskDefinitionArn,
      revision,
      status,
      registeredAt,
      registeredBy,
      compatibilities,
      requiresAttributes,
      ...same
    } = definition(3, "20");
    // Everything RegisterTaskDefinition accepts, copied; nothing read-only; only WORKER_CONCURRENCY changed.
    expect(register).toEqual({ ...same, tags: [{ key: "app", value: "surge" }] });
    expect(register?.containerDefinitions?.[0]?.environment).toEqual([
      { name: "PAYMENT_SLOTS", value: "5" },
      { name: "WORKER_CONCURRENCY", value: "20" },
    ]);
    expect(register?.containerDefinitions?.[1]).toEqual(definition(3, "5").containerDefinitions?.[1]);
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: CLUSTER, service: SERVICE, taskDefinition: arn(4) },
    ]);
  });

  it("registers no revision when the concurrency is already the one asked for", async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ desiredCount: 1, taskDefinition: arn(3) }] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: definition(3, "5") });
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    await fleet.setConcurrency(5);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it("wraps AWS errors as 503s that name the call", async () => {
    ecs.on(UpdateServiceCommand).rejects(new Error("Rate exceeded"));
    const error = await fleet.setDesiredCount(3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetUnavailableError);
    expect(error).toMatchObject({ status: 503, message: "ECS UpdateService failed: Rate exceeded" });
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: "MISSING" }] });
    await expect(fleet.describe()).rejects.toThrow(`ECS service ${SERVICE} in ${CLUSTER}: MISSING`);
  });
});
