/**
 * The AWS deployment's control plane answering real requests: moto_server provisioned from the CDK
 * app's synthesized template, the built API started with its ECS task definition's environment
 * (FLEET=ecs, Application Auto Scaling, CLOUDWATCH_QUEUE_METRICS=true, AWS_ENDPOINT_URL at moto),
 * driven through /ops/ as the console drives it, and checked with the AWS APIs themselves.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from "@aws-sdk/client-application-auto-scaling";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { freePort, stopChild, tempDir, waitFor } from "@surge/testing";
import { CHROMIUM } from "@surge/testing/chromium";
import { type Moto, startMoto } from "@surge/testing/moto";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiProcess,
  type ProvisionedStack,
  provisionStack,
  repoRoot,
  STACK_REGION,
  startStackApi,
} from "./moto-stack.js";

const TOKEN = `aws-suite-${crypto.randomUUID()}`;

describe("the AWS control plane on moto: the API with FLEET=ecs and Application Auto Scaling", () => {
  let moto: Moto;
  let stack: ProvisionedStack;
  let api: ApiProcess;
  let data: ReturnType<typeof tempDir>;
  let ecs: ECSClient;
  let scaling: ApplicationAutoScalingClient;

  const ops = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}/ops${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const service = async () =>
    (await ecs.send(new DescribeServicesCommand({ cluster: stack.cluster, services: [stack.workerService] })))
      .services?.[0];
  const target = async () =>
    (
      await scaling.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: "ecs",
          ScalableDimension: "ecs:service:DesiredCount",
          ResourceIds: [stack.resourceId],
        }),
      )
    ).ScalableTargets?.[0];

  beforeAll(async () => {
    moto = await startMoto(STACK_REGION);
    stack = await provisionStack(moto);
    data = tempDir("surge-aws-suite-");
    const config = { ...moto.clientConfig, region: STACK_REGION };
    ecs = new ECSClient(config);
    scaling = new ApplicationAutoScalingClient(config);
    // Queue age as SQS reports it to CloudWatch, seeded before the API's first (cached) reading.
    const cloudwatch = new CloudWatchClient(config);
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: "AWS/SQS",
        MetricData: [
          {
            MetricName: "ApproximateAgeOfOldestMessage",
            Dimensions: [{ Name: "QueueName", Value: stack.queueName }],
            Timestamp: new Date(Date.now() - 90_000),
            Value: 42,
            Unit: "Seconds",
          },
        ],
      }),
    );
    cloudwatch.destroy();
    api = await startStackApi(moto, stack, TOKEN, data.path);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    ecs?.destroy();
    scaling?.destroy();
    await moto?.stop();
    data?.remove();
  });

  it("runs with the environment the CDK stack gives the API task", () => {
    expect(stack.apiEnvironment).toMatchObject({
      FLEET: "ecs",
      ECS_CLUSTER: stack.cluster,
      ECS_SERVICE: stack.workerService,
      AUTOSCALING_ENABLED: "true",
      CLOUDWATCH_QUEUE_METRICS: "true",
      ORDERS_QUEUE: stack.queueName,
      ORDERS_DLQ: stack.dlqName,
    });
  });

  it("sets the desired count, checked with DescribeServices", async () => {
    const res = await ops("PUT", "/fleet", { desiredCount: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ desiredCount: 3, controlledBy: "operator" });
    expect((await service())?.desiredCount).toBe(3);
  });

  it("changes concurrency as a new revision equal to the old one but for WORKER_CONCURRENCY", async () => {
    const before = await service();
    const old = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: before?.taskDefinition })))
      .taskDefinition;
    const res = await ops("PUT", "/fleet", { concurrency: 20 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ concurrency: 20 });
    const after = await service();
    expect(after?.taskDefinition).not.toBe(before?.taskDefinition);
    const next = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: after?.taskDefinition })))
      .taskDefinition;
    expect(next?.family).toBe(stack.workerFamily);
    expect(next?.revision).toBe((old?.revision ?? 0) + 1);
    const withoutConcurrency = (d: typeof old) => ({
      cpu: d?.cpu,
      memory: d?.memory,
      networkMode: d?.networkMode,
      requiresCompatibilities: d?.requiresCompatibilities,
      taskRoleArn: d?.taskRoleArn,
      executionRoleArn: d?.executionRoleArn,
      containers: d?.containerDefinitions?.map((c) => ({
        ...c,
        environment: c.environment
          ?.filter((e) => e.name !== "WORKER_CONCURRENCY")
          .sort((a, b) => String(a.name).localeCompare(String(b.name))),
      })),
    });
    expect(withoutConcurrency(next)).toEqual(withoutConcurrency(old));
    const value = (d: typeof old) =>
      d?.containerDefinitions
        ?.find((c) => c.name === "worker")
        ?.environment?.find((e) => e.name === "WORKER_CONCURRENCY")?.value;
    expect(value(old)).toBe(stack.apiEnvironment.WORKER_CONCURRENCY);
    expect(value(next)).toBe("20");
  });

  it("hands the wheel to Application Auto Scaling and takes it back, as SuspendedState on the target", async () => {
    const on = await ops("PUT", "/autoscaling", { enabled: true });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body).toMatchObject({ kind: "aws", enabled: true, controlledBy: "autoscaler" });
    expect((await target())?.SuspendedState).toMatchObject({
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
    });
    // A manual desired count takes the wheel back: dynamic scaling suspended, as AWS does.
    const manual = await ops("PUT", "/fleet", { desiredCount: 2 });
    expect(manual.status, JSON.stringify(manual.body)).toBe(200);
    expect(manual.body).toMatchObject({ desiredCount: 2, controlledBy: "operator" });
    expect((await target())?.SuspendedState).toMatchObject({
      DynamicScalingInSuspended: true,
      DynamicScalingOutSuspended: true,
    });
    expect((await service())?.desiredCount).toBe(2);
  });

  it("changes the policy, checked with DescribeScalingPolicies and DescribeScalableTargets", async () => {
    const res = await ops("PUT", "/autoscaling", {
      enabled: true,
      minTasks: 2,
      maxTasks: 40,
      targetBacklogPerTask: 12,
      scaleOutCooldownSeconds: 30,
      scaleInCooldownSeconds: 120,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ minTasks: 2, maxTasks: 40, targetBacklogPerTask: 12, enabled: true });
    expect(await target()).toMatchObject({ MinCapacity: 2, MaxCapacity: 40 });
    const policies = await scaling.send(
      new DescribeScalingPoliciesCommand({
        ServiceNamespace: "ecs",
        ScalableDimension: "ecs:service:DesiredCount",
        ResourceId: stack.resourceId,
      }),
    );
    expect(policies.ScalingPolicies).toHaveLength(1);
    const tracking = policies.ScalingPolicies?.[0]?.TargetTrackingScalingPolicyConfiguration;
    expect(tracking).toMatchObject({ TargetValue: 12, ScaleOutCooldown: 30, ScaleInCooldown: 120 });
    // Backlog per task, on the queue the stack created.
    expect(JSON.stringify(tracking?.CustomizedMetricSpecification)).toContain(stack.queueName);
  });

  it("exports queue age from CloudWatch (seeded with PutMetricData)", async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toMatch(/surge_queue_oldest_message_age_seconds\{queue="orders"\} 42\b/);
    expect(text).not.toMatch(/surge_queue_oldest_message_age_seconds\{queue="dlq"\}/);
  });

  it("audits every change with before and after", async () => {
    const res = await ops("GET", "/audit?limit=50");
    const entries = res.body.entries as Array<{ action: string; actor: string; before?: unknown; after?: unknown }>;
    const actions = entries.map((e) => e.action);
    expect(actions.filter((a) => a === "fleet.update")).toHaveLength(3);
    expect(actions.filter((a) => a === "autoscaling.policy")).toHaveLength(2);
    expect(entries.every((e) => e.actor === "operator")).toBe(true);
    // Oldest first: the count, the concurrency, the wheel taken back; then the policy twice.
    const fleet = entries.filter((e) => e.action === "fleet.update").reverse();
    expect(fleet.map((e) => [e.before, e.after])).toMatchObject([
      [{ desiredCount: 1 }, { desiredCount: 3 }],
      [{ concurrency: Number(stack.apiEnvironment.WORKER_CONCURRENCY) }, { concurrency: 20 }],
      [{ desiredCount: 3 }, { desiredCount: 2 }],
    ]);
    const policy = entries.filter((e) => e.action === "autoscaling.policy").reverse();
    expect(policy.map((e) => [e.before, e.after])).toMatchObject([
      [{ controlledBy: "operator" }, { enabled: true, controlledBy: "autoscaler" }],
      [{ maxTasks: Number(stack.apiEnvironment.AUTOSCALING_MAX_TASKS) }, { minTasks: 2, maxTasks: 40 }],
    ]);
  });

  it("answers bad bodies and out-of-bounds values with 400 naming the field, and changes nothing", async () => {
    const desiredBefore = (await service())?.desiredCount;
    const overMax = Number(stack.apiEnvironment.MAX_WORKER_TASKS) + 1;
    const cases: Array<[string, string, unknown, string]> = [
      ["PUT", "/fleet", { desiredCount: overMax }, "desiredCount"],
      ["PUT", "/fleet", { desiredCount: -1 }, "desiredCount"],
      ["PUT", "/fleet", { concurrency: 0 }, "concurrency"],
      ["PUT", "/fleet", { desiredCount: "three" }, "desiredCount"],
      ["PUT", "/fleet", { replicas: 3 }, "replicas"],
      ["PUT", "/autoscaling", { maxTasks: overMax }, "maxTasks"],
      ["PUT", "/autoscaling", { minTasks: 0 }, "minTasks"],
      ["PUT", "/autoscaling", { targetBacklogPerTask: 0 }, "targetBacklogPerTask"],
      ["PUT", "/autoscaling", { enabled: "yes" }, "enabled"],
      ["PUT", "/fleet", "{not json", "body"],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await ops(method, path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(400);
      // The field, or for an unknown one the body, whose message names it.
      const details = (res.body.details ?? []) as Array<{ field: string; message: string }>;
      expect(
        details.some((d) => d.field === field || (d.field === "body" && d.message.includes(field))),
        `${path} ${JSON.stringify(body)} names ${field}: ${JSON.stringify(details)}`,
      ).toBe(true);
    }
    // The bound comes from the stack's MAX_WORKER_TASKS.
    const over = await ops("PUT", "/fleet", { desiredCount: overMax });
    expect(over.body.error).toContain(`0..${stack.apiEnvironment.MAX_WORKER_TASKS}`);
    expect((await service())?.desiredCount).toBe(desiredBefore);
  });

  it("answers 502 naming the AWS call when moto lacks it (DescribeScalingActivities), never the SDK's dump", async () => {
    const res = await ops("GET", "/scaling-activities");
    expect(res.status).toBe(502);
    expect(res.body.call).toBe("ApplicationAutoScaling.DescribeScalingActivities");
    expect(String(res.body.error)).toMatch(/^AWS call ApplicationAutoScaling\.DescribeScalingActivities failed: /);
    expect(String(res.body.remedy)).toMatch(/AWS_ENDPOINT_URL/);
    const raw = JSON.stringify(res.body);
    for (const leak of ["$response", "Deserialization", "Unexpected token", "<!DOCTYPE", "<html"]) {
      expect(raw).not.toContain(leak);
    }
  });

  it("answers 502 for the Lambda panel: moto's Logs Insights has no `stats`", async () => {
    const res = await ops("GET", "/lambda");
    expect(res.status, JSON.stringify(res.body)).toBe(502);
    expect(res.body.call).toBe("CloudWatchLogs.StartQuery");
    expect(JSON.stringify(res.body)).not.toContain("$response");
  });

  it("shows that 502 in place on the console's Workers page, in Chromium", async () => {
    const port = await freePort();
    const consoleUrl = `http://127.0.0.1:${port}`;
    const server = spawn(process.execPath, [join(repoRoot, "web/.next/standalone/web/server.js")], {
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        PORT: String(port),
        HOSTNAME: "127.0.0.1",
        SURGE_API_URL: api.url,
        SURGE_OPS_TOKEN: TOKEN,
        SESSION_SECRET: randomBytes(32).toString("hex"),
      },
      stdio: "ignore",
    });
    const browser = await chromium.launch(CHROMIUM);
    try {
      await waitFor(async () => (await fetch(`${consoleUrl}/sign-in`)).status === 200, {
        what: "the console",
        timeoutMs: 60_000,
      });
      const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      await page.goto(`${consoleUrl}/sign-in`);
      await page.fill("input[name=token]", TOKEN);
      await page.click("button[type=submit]");
      await page.waitForURL(`${consoleUrl}/`);
      await page.goto(`${consoleUrl}/workers`);
      const failed = page.getByTestId("aws-call-failed");
      await failed.waitFor({ timeout: 30_000 });
      const text = (await failed.textContent()) ?? "";
      expect(text).toContain("ApplicationAutoScaling.DescribeScalingActivities");
      expect(text).toContain("The API is up");
      for (const leak of ["$response", "Deserialization", "Unexpected token"]) expect(text).not.toContain(leak);
    } finally {
      await browser.close();
      await stopChild(server);
    }
  }, 120_000);
});
