/**
 * The CDK stack's control plane on moto: the stack synthesized from infra/cdk (cdk.json's context, the
 * same names and settings `cdk deploy` would use), then its cluster, worker service and task definition,
 * queues with the redrive policy, topic, subscription and scalable target created on moto from the
 * template's own properties. The API is then started as the real bundle with its task definition's env.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  ApplicationAutoScalingClient,
  RegisterScalableTargetCommand,
  type ScalableDimension,
  type ServiceNamespace,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  type ContainerDefinition,
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  type LaunchType,
  type NetworkMode,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type CfnResource, type CfnTemplate, REGION, resolveIntrinsics, synthesize } from "@surge/cdk/testing";
import { freePort, stopChild, waitFor } from "@surge/testing";
import type { Moto } from "@surge/testing/moto";

export const repoRoot = resolve(import.meta.dirname, "../..");
/** The CDK harness resolves ARNs in this region (and moto's default account, 123456789012). */
export const STACK_REGION = REGION;

type Properties = Record<string, unknown>;

function only(json: CfnTemplate, type: string, match: (p: Properties) => boolean): CfnResource {
  const found = Object.values(json.Resources).filter((r) => r.Type === type && match(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as CfnResource;
}

/** CloudFormation's PascalCase property names → the SDK's camelCase (ECS's API), recursively for objects. */
function camel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camel);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Properties).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camel(v)]),
  );
}

/** An IAM role's ARN for a role the template creates (moto does not check that it exists). */
function roleArn(json: CfnTemplate, value: unknown): string | undefined {
  const getAtt = (value as { "Fn::GetAtt"?: [string, string] } | undefined)?.["Fn::GetAtt"];
  if (!getAtt) return undefined;
  const [id] = getAtt;
  if (!json.Resources[id]) throw new Error(`no role ${id}`);
  return `arn:aws:iam::123456789012:role/${id}`;
}

export interface ProvisionedStack {
  cluster: string;
  workerService: string;
  workerFamily: string;
  queueName: string;
  dlqName: string;
  topicArn: string;
  /** The API container's environment from its task definition, intrinsics resolved. */
  apiEnvironment: Record<string, string>;
  /** The scalable target's ResourceId. */
  resourceId: string;
  maxReceiveCount: number;
}

/** Synthesizes the stack and creates its control-plane resources on moto. */
export async function provisionStack(moto: Moto): Promise<ProvisionedStack> {
  const { json } = synthesize();
  const config = { ...moto.clientConfig, region: STACK_REGION };
  const ecs = new ECSClient(config);
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const scaling = new ApplicationAutoScalingClient(config);
  const resolved = <T>(value: unknown) => resolveIntrinsics(json, value) as T;

  const cluster = String(only(json, "AWS::ECS::Cluster", () => true).Properties?.ClusterName);
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));

  // The worker's task definition as CloudFormation would register it.
  const workerTask = only(json, "AWS::ECS::TaskDefinition", (p) => String(p.Family).endsWith("-worker"));
  const td = workerTask.Properties ?? {};
  const containers = (td.ContainerDefinitions as Properties[]).map((c) => {
    const { Secrets, Image, ...rest } = c;
    return {
      ...(camel(resolved(rest)) as ContainerDefinition),
      // The image is an asset CDK publishes to ECR at deploy time; moto only stores the reference.
      image: `123456789012.dkr.ecr.${STACK_REGION}.amazonaws.com/surge-worker:${String(c.Name)}`,
      secrets: (Secrets as Array<{ Name: string }> | undefined)?.map((s) => ({
        name: s.Name,
        valueFrom: `arn:aws:secretsmanager:${STACK_REGION}:123456789012:secret:${s.Name}`,
      })),
    };
  });
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: String(td.Family),
      containerDefinitions: containers,
      cpu: String(td.Cpu),
      memory: String(td.Memory),
      networkMode: td.NetworkMode as NetworkMode,
      requiresCompatibilities: td.RequiresCompatibilities as LaunchType[],
      taskRoleArn: roleArn(json, td.TaskRoleArn),
      executionRoleArn: roleArn(json, td.ExecutionRoleArn),
    }),
  );
  const workerServiceProps = only(json, "AWS::ECS::Service", (p) => String(p.ServiceName).endsWith("-worker"))
    .Properties as Properties;
  const workerService = String(workerServiceProps.ServiceName);
  await ecs.send(
    new CreateServiceCommand({
      cluster,
      serviceName: workerService,
      taskDefinition: registered.taskDefinition?.taskDefinitionArn,
      // No DesiredCount in the template (autoscaling owns it): CloudFormation then creates the service with 1.
      desiredCount: Number(workerServiceProps.DesiredCount ?? 1),
      ...(workerServiceProps.LaunchType !== undefined && { launchType: workerServiceProps.LaunchType as LaunchType }),
    }),
  );

  // Queues: the DLQ first, then the orders queue with its redrive policy to it.
  const queues = Object.values(json.Resources).filter((r) => r.Type === "AWS::SQS::Queue");
  const dlqProps = resolved<Properties>(
    queues.find((q) => String(q.Properties?.QueueName).endsWith("-dlq"))?.Properties,
  );
  const queueProps = resolved<Properties>(queues.find((q) => q.Properties?.RedrivePolicy !== undefined)?.Properties);
  const attributes = (p: Properties): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const key of ["VisibilityTimeout", "ReceiveMessageWaitTimeSeconds", "MessageRetentionPeriod"]) {
      if (p[key] !== undefined) out[key] = String(p[key]);
    }
    if (p.RedrivePolicy !== undefined) out.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
    return out;
  };
  await sqs.send(new CreateQueueCommand({ QueueName: String(dlqProps.QueueName), Attributes: attributes(dlqProps) }));
  const queue = await sqs.send(
    new CreateQueueCommand({ QueueName: String(queueProps.QueueName), Attributes: attributes(queueProps) }),
  );
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.QueueArn;

  // The topic and the workers' subscription (raw delivery, the routing filter policy).
  const topicProps = only(json, "AWS::SNS::Topic", (p) => String(p.TopicName).endsWith("-orders")).Properties ?? {};
  const topic = await sns.send(new CreateTopicCommand({ Name: String(topicProps.TopicName) }));
  const subscription = resolved<Properties>(
    only(json, "AWS::SNS::Subscription", (p) => p.Protocol === "sqs").Properties,
  );
  if (subscription.Endpoint !== queueArn)
    throw new Error(`subscription endpoint ${subscription.Endpoint} ≠ ${queueArn}`);
  await sns.send(
    new SubscribeCommand({
      TopicArn: topic.TopicArn,
      Protocol: "sqs",
      Endpoint: queueArn,
      Attributes: {
        RawMessageDelivery: String(subscription.RawMessageDelivery),
        FilterPolicy: JSON.stringify(subscription.FilterPolicy),
      },
    }),
  );

  // The scalable target over the worker service's desired count, as registered by the stack.
  const target = resolved<Properties>(only(json, "AWS::ApplicationAutoScaling::ScalableTarget", () => true).Properties);
  await scaling.send(
    new RegisterScalableTargetCommand({
      ServiceNamespace: target.ServiceNamespace as ServiceNamespace,
      ScalableDimension: target.ScalableDimension as ScalableDimension,
      ResourceId: String(target.ResourceId),
      MinCapacity: Number(target.MinCapacity),
      MaxCapacity: Number(target.MaxCapacity),
      RoleARN: String(target.RoleARN),
    }),
  );

  const apiTask = only(json, "AWS::ECS::TaskDefinition", (p) => String(p.Family).endsWith("-api"));
  const apiContainer = (apiTask.Properties?.ContainerDefinitions as Properties[] | undefined)?.[0] ?? {};
  const apiEnvironment = Object.fromEntries(
    resolved<Array<{ Name: string; Value: string }>>(apiContainer.Environment).map((e) => [e.Name, String(e.Value)]),
  );
  // The function's log group, with one REPORT line as the Lambda runtime writes it after an invocation.
  const logGroupName = String(apiEnvironment.LAMBDA_LOG_GROUP);
  if (
    !Object.values(json.Resources).some(
      (r) => r.Type === "AWS::Logs::LogGroup" && r.Properties?.LogGroupName === logGroupName,
    )
  ) {
    throw new Error(`the template creates no log group ${logGroupName}`);
  }
  const logs = new CloudWatchLogsClient(config);
  await logs.send(new CreateLogGroupCommand({ logGroupName }));
  await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: "2026/01/01/[$LATEST]0001" }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName,
      logStreamName: "2026/01/01/[$LATEST]0001",
      logEvents: [
        {
          timestamp: Date.now() - 60_000,
          message:
            "REPORT RequestId: 3f1c0a52-5d1e-4c3e-9a55-0d6a3b1e2f00\tDuration: 3012.45 ms\tBilled Duration: 3013 ms\tMemory Size: 512 MB\tMax Memory Used: 88 MB\tInit Duration: 412.30 ms\t",
        },
      ],
    }),
  );
  logs.destroy();
  const redrive = queueProps.RedrivePolicy as { maxReceiveCount: number };
  for (const client of [ecs, sqs, sns, scaling]) client.destroy();
  return {
    cluster,
    workerService,
    workerFamily: String(td.Family),
    queueName: String(queueProps.QueueName),
    dlqName: String(dlqProps.QueueName),
    topicArn: String(topic.TopicArn),
    apiEnvironment,
    resourceId: String(target.ResourceId),
    maxReceiveCount: Number(redrive.maxReceiveCount),
  };
}

export interface ApiProcess {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The API bundle as the stack's API task runs it: the task definition's environment, with what ECS
 * would inject from Secrets Manager given here (the operator token, the embedded store in DATA_DIR
 * in place of RDS), pointed at moto through the standard AWS_ENDPOINT_URL.
 */
export function startStackApi(
  moto: Moto,
  stack: ProvisionedStack,
  opsToken: string,
  dataDir: string,
): Promise<ApiProcess> {
  const env = { ...stack.apiEnvironment };
  delete env.API_BASE_URL;
  return startApiBundle({
    ...env,
    ...moto.env,
    AWS_REGION: STACK_REGION,
    OPS_TOKEN: opsToken,
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    PAYMENT_DURATION_MS: "50",
  });
}

/** Starts api/dist/main.js with `env` (and nothing else from this process but PATH) and waits for /health. */
async function startApiBundle(env: Record<string, string>): Promise<ApiProcess> {
  const bundle = join(repoRoot, "api/dist/main.js");
  if (!existsSync(bundle)) throw new Error("api/dist/main.js is missing: run `npx turbo run build` first");
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [bundle], {
    cwd: join(repoRoot, "api"),
    env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the API exited (${child.exitCode}):\n${output}`);
        return (await fetch(`${url}/health`)).status < 500;
      },
      { what: "the API's /health", timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${String(error)}\n${output}`);
  }
  return {
    url,
    output: () => output,
    stop: () => stopChild(child),
  };
}
