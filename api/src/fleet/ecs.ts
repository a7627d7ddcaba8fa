import {
  type ContainerDefinition,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type Task,
  type TaskDefinition,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { callAws } from "../aws-error.js";
import { HttpError } from "../http/server.js";
import { type Fleet, type FleetState, type FleetTask, type FleetTaskStatus, FleetUnavailableError } from "./types.js";

interface EcsFleetOptions {
  ecs: ECSClient;
  /** Cluster name or ARN (ECS_CLUSTER). */
  cluster: string;
  /** The worker service's name or ARN (ECS_SERVICE). */
  service: string;
  /** The container in the task definition that runs the worker (ECS_WORKER_CONTAINER). Default "worker". */
  containerName?: string;
  /** The environment variable that carries per-task concurrency. Default WORKER_CONCURRENCY. */
  concurrencyVariable?: string;
}

/** DescribeTasks takes at most 100 tasks per call. */
const DESCRIBE_TASKS_MAX = 100;

/**
 * The fleet on ECS. Concurrency is a new task definition revision rolled out by UpdateService: ECS has
 * no live channel into a running container, so unlike the local fleet this replaces tasks.
 */
export class EcsFleet implements Fleet {
  readonly kind = "ecs" as const;
  readonly #ecs: ECSClient;
  readonly #cluster: string;
  readonly #service: string;
  readonly #container: string;
  readonly #variable: string;
  /** Task definitions never change once registered: each revision's concurrency is read once. */
  readonly #concurrencyByArn = new Map<string, number>();

  constructor(options: EcsFleetOptions) {
    this.#ecs = options.ecs;
    this.#cluster = options.cluster;
    this.#service = options.service;
    this.#container = options.containerName ?? "worker";
    this.#variable = options.concurrencyVariable ?? "WORKER_CONCURRENCY";
  }

  async describe(): Promise<FleetState> {
    const service = await this.#describeService();
    const [concurrency, tasks] = await Promise.all([
      this.#concurrencyOf(required(service.taskDefinition, "service.taskDefinition")),
      this.#tasks(),
    ]);
    return {
      desiredCount: service.desiredCount ?? 0,
      running: service.runningCount ?? 0,
      pending: service.pendingCount ?? 0,
      stopping: tasks.filter((t) => t.status === "stopping").length,
      concurrency,
      restarts: (service.deployments ?? []).reduce((sum, d) => sum + (d.failedTasks ?? 0), 0),
      tasks,
    };
  }

  async setDesiredCount(count: number): Promise<FleetState> {
    await this.#send("UpdateService", () =>
      this.#ecs.send(new UpdateServiceCommand({ cluster: this.#cluster, service: this.#service, desiredCount: count })),
    );
    return this.describe();
  }

  async setConcurrency(concurrency: number): Promise<FleetState> {
    const service = await this.#describeService();
    const currentArn = required(service.taskDefinition, "service.taskDefinition");
    const out = await this.#send("DescribeTaskDefinition", () =>
      this.#ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: currentArn, include: ["TAGS"] })),
    );
    const current = required(out.taskDefinition, "DescribeTaskDefinition.taskDefinition");
    if (readConcurrency(current, this.#container, this.#variable) === concurrency) return this.describe();
    const registered = await this.#send("RegisterTaskDefinition", () =>
      this.#ecs.send(
        new RegisterTaskDefinitionCommand(
          nextRevision(current, out.tags, this.#container, this.#variable, String(concurrency)),
        ),
      ),
    );
    const nextArn = required(registered.taskDefinition?.taskDefinitionArn, "RegisterTaskDefinition.taskDefinitionArn");
    this.#concurrencyByArn.set(nextArn, concurrency);
    await this.#send("UpdateService", () =>
      this.#ecs.send(
        new UpdateServiceCommand({ cluster: this.#cluster, service: this.#service, taskDefinition: nextArn }),
      ),
    );
    return this.describe();
  }

  async #describeService(): Promise<Service> {
    const out = await this.#send("DescribeServices", () =>
      this.#ecs.send(new DescribeServicesCommand({ cluster: this.#cluster, services: [this.#service] })),
    );
    const service = out.services?.[0];
    if (!service) {
      const why = out.failures?.[0]?.reason ?? "not found";
      throw new FleetUnavailableError(`ECS service ${this.#service} in ${this.#cluster}: ${why}`);
    }
    return service;
  }

  async #concurrencyOf(taskDefinitionArn: string): Promise<number> {
    const known = this.#concurrencyByArn.get(taskDefinitionArn);
    if (known !== undefined) return known;
    const out = await this.#send("DescribeTaskDefinition", () =>
      this.#ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn })),
    );
    const value = readConcurrency(
      required(out.taskDefinition, "DescribeTaskDefinition.taskDefinition"),
      this.#container,
      this.#variable,
    );
    this.#concurrencyByArn.set(taskDefinitionArn, value);
    return value;
  }

  /** Tasks the service wants running, and tasks it has told to stop that are still draining. */
  async #tasks(): Promise<FleetTask[]> {
    const [running, stopped] = await Promise.all([this.#listTaskArns("RUNNING"), this.#listTaskArns("STOPPED")]);
    const arns = [...running, ...stopped];
    const described: Task[] = [];
    for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_MAX) {
      const out = await this.#send("DescribeTasks", () =>
        this.#ecs.send(
          new DescribeTasksCommand({ cluster: this.#cluster, tasks: arns.slice(i, i + DESCRIBE_TASKS_MAX) }),
        ),
      );
      described.push(...(out.tasks ?? []));
    }
    return described
      .filter((t) => t.lastStatus !== "STOPPED")
      .map(
        (t): FleetTask => ({
          taskId: (t.taskArn ?? "").split("/").pop() ?? "",
          status: taskStatus(t),
          startedAt: (t.startedAt ?? t.createdAt ?? new Date(0)).toISOString(),
          ...(t.taskDefinitionArn && { revision: t.taskDefinitionArn.split("/").pop() }),
        }),
      )
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async #listTaskArns(desiredStatus: "RUNNING" | "STOPPED"): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const out = await this.#send("ListTasks", () =>
        this.#ecs.send(
          new ListTasksCommand({
            cluster: this.#cluster,
            serviceName: this.#service,
            desiredStatus,
            ...(token && { nextToken: token }),
          }),
        ),
      );
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    return arns;
  }

  /** Wraps AWS errors where they enter: the operator sees which call failed, why, and what to do (502). */
  #send<T>(what: string, call: () => Promise<T>): Promise<T> {
    return callAws(`ECS.${what}`, call);
  }
}

function taskStatus(task: Task): FleetTaskStatus {
  if (task.desiredStatus === "STOPPED") return "stopping";
  return task.lastStatus === "RUNNING" ? "running" : "pending";
}

function readConcurrency(definition: TaskDefinition, container: string, variable: string): number {
  const env = workerContainer(definition, container).environment ?? [];
  const value = Number(env.find((e) => e.name === variable)?.value);
  // The worker's own default when the variable is absent (worker/src/env.ts).
  return Number.isInteger(value) && value > 0 ? value : 5;
}

function workerContainer(definition: TaskDefinition, name: string): ContainerDefinition {
  const found = definition.containerDefinitions?.find((c) => c.name === name);
  if (!found) {
    throw new HttpError(
      500,
      `task definition ${definition.family}:${definition.revision} has no container "${name}" (ECS_WORKER_CONTAINER)`,
    );
  }
  return found;
}

/**
 * The next revision of a task definition: everything RegisterTaskDefinition
 * accepts copied as it is (read-only fields such as status, revision and
 * registeredAt dropped), with one environment variable of one container changed.
 */
function nextRevision(
  current: TaskDefinition,
  tags: RegisterTaskDefinitionCommandInput["tags"],
  container: string,
  variable: string,
  value: string,
): RegisterTaskDefinitionCommandInput {
  workerContainer(current, container);
  const containerDefinitions = (current.containerDefinitions ?? []).map((c) => {
    if (c.name !== container) return c;
    const environment = (c.environment ?? []).filter((e) => e.name !== variable);
    return { ...c, environment: [...environment, { name: variable, value }] };
  });
  const input: RegisterTaskDefinitionCommandInput = {
    family: required(current.family, "taskDefinition.family"),
    containerDefinitions,
    taskRoleArn: current.taskRoleArn,
    executionRoleArn: current.executionRoleArn,
    networkMode: current.networkMode,
    volumes: current.volumes,
    placementConstraints: current.placementConstraints,
    requiresCompatibilities: current.requiresCompatibilities,
    cpu: current.cpu,
    memory: current.memory,
    pidMode: current.pidMode,
    ipcMode: current.ipcMode,
    proxyConfiguration: current.proxyConfiguration,
    inferenceAccelerators: current.inferenceAccelerators,
    ephemeralStorage: current.ephemeralStorage,
    runtimePlatform: current.runtimePlatform,
    enableFaultInjection: current.enableFaultInjection,
    tags: tags && tags.length > 0 ? tags : undefined,
  };
  // Absent stays absent: RegisterTaskDefinition rejects some fields given as empty.
  for (const key of Object.keys(input) as Array<keyof RegisterTaskDefinitionCommandInput>) {
    if (input[key] === undefined) delete input[key];
  }
  return input;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null) throw new FleetUnavailableError(`ECS answer is missing ${what}`);
  return value;
}
