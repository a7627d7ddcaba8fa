import { beforeAll, describe, expect, it } from "vitest";
import { SCALABLE_TARGET_TAG, UNSCOPABLE_ACTIONS } from "../lib/permissions.js";
import { type CfnTemplate, findResource, resourcesOfType, type Synthesized, synthesize } from "./cdk-harness.js";

interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, unknown>;
}

interface Located {
  where: string;
  statement: Statement;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every policy statement in the template: identity policies, inline role policies and resource policies. */
function allStatements(json: CfnTemplate): Located[] {
  const out: Located[] = [];
  const add = (where: string, doc: unknown) => {
    for (const statement of list((doc as { Statement?: Statement[] } | undefined)?.Statement)) {
      out.push({ where, statement });
    }
  };
  for (const [id, r] of Object.entries(json.Resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case "AWS::IAM::Policy":
      case "AWS::IAM::ManagedPolicy":
        add(id, p.PolicyDocument);
        break;
      case "AWS::IAM::Role":
        for (const inline of list(p.Policies as Array<{ PolicyDocument: unknown }> | undefined)) {
          add(id, inline.PolicyDocument);
        }
        break;
      case "AWS::SQS::QueuePolicy":
      case "AWS::SNS::TopicPolicy":
      case "AWS::SecretsManager::ResourcePolicy":
        add(id, p.PolicyDocument ?? p.ResourcePolicy);
        break;
    }
  }
  return out;
}

/** The statements of the policies attached to one role. */
function roleStatements(json: CfnTemplate, roleId: string): Statement[] {
  return resourcesOfType(json, "AWS::IAM::Policy")
    .filter(([, r]) =>
      list(r.Properties?.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })),
    )
    .flatMap(([, r]) => list((r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement));
}

function taskRoleOf(json: CfnTemplate, family: string, which: "TaskRoleArn" | "ExecutionRoleArn"): string {
  const [, td] = findResource(json, "AWS::ECS::TaskDefinition", { Family: family });
  return getAttId(td.Properties?.[which]);
}

/** The logical id in `{ "Fn::GetAtt": [id, attribute] }`. */
function getAttId(value: unknown): string {
  const id = (value as { "Fn::GetAtt"?: [string, string] } | undefined)?.["Fn::GetAtt"]?.[0];
  if (id === undefined) throw new Error(`not a GetAtt: ${JSON.stringify(value)}`);
  return id;
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => list(s.Action)).sort();

describe("IAM least privilege", () => {
  let s: Synthesized;
  let statements: Located[];
  beforeAll(() => {
    s = synthesize({}, { web: true });
    statements = allStatements(s.json);
  });

  it("finds the policies it checks (the checks below are not vacuous)", () => {
    expect(statements.length).toBeGreaterThan(40);
    expect(new Set(statements.map((l) => l.where)).size).toBeGreaterThan(8);
  });

  it("no statement allows `*` actions: not `*`, not `service:*`, no NotAction", () => {
    const offending = statements.filter(
      ({ statement: st }) =>
        st.Effect === "Allow" &&
        (st.NotAction !== undefined || list(st.Action).some((a) => a === "*" || a.endsWith(":*"))),
    );
    expect(offending).toEqual([]);
  });

  it("nothing is granted on `*` except actions AWS cannot scope, or under a narrowing condition", () => {
    const offending = statements.filter(({ statement: st }) => {
      if (st.Effect !== "Allow") return false;
      if (st.NotResource !== undefined) return true;
      if (!list(st.Resource).includes("*")) return false;
      if (st.Condition !== undefined) return false;
      return !list(st.Action).every((a) => UNSCOPABLE_ACTIONS.has(a));
    });
    expect(offending).toEqual([]);
  });

  it("resource policies open to a service or anyone are pinned to this stack's sources", () => {
    const resourcePolicies = statements.filter(
      ({ statement: st }) => st.Effect === "Allow" && st.Principal !== undefined,
    );
    // SNS delivering to the orders queue and, for the Lambda subscription's undeliverable events, to the orders DLQ.
    expect(resourcePolicies.length).toBeGreaterThanOrEqual(2);
    expect(resourcePolicies.filter(({ statement: st }) => st.Condition === undefined).map((o) => o.where)).toEqual([]);
  });

  it("no role has an AWS managed policy except CDK's own custom-resource handler (basic logging)", () => {
    for (const [id, role] of resourcesOfType(s.json, "AWS::IAM::Role")) {
      const managed = JSON.stringify(role.Properties?.ManagedPolicyArns ?? []);
      if (id.startsWith("CustomVpcRestrictDefaultSG")) expect(managed).toMatch(/AWSLambdaBasicExecutionRole/);
      else expect([id, managed]).toEqual([id, "[]"]);
    }
  });

  it("workers may only receive, delete and change visibility on their queue, and dead-letter with a reason", () => {
    const [queueId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders" });
    const [dlqId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders-dlq" });
    const worker = roleStatements(s.json, taskRoleOf(s.json, "surge-dev-worker", "TaskRoleArn"));
    expect(worker).toEqual([
      {
        Sid: "ConsumeOrders",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"],
        Resource: { "Fn::GetAtt": [queueId, "Arn"] },
      },
      {
        Sid: "DeadLetterPoisonOrders",
        Effect: "Allow",
        Action: ["sqs:SendMessage", "sqs:GetQueueUrl"],
        Resource: { "Fn::GetAtt": [dlqId, "Arn"] },
      },
    ]);
  });

  it("the API publishes only to the orders topic", () => {
    const [topicId] = findResource(s.json, "AWS::SNS::Topic", { TopicName: "surge-dev-orders" });
    const api = roleStatements(s.json, taskRoleOf(s.json, "surge-dev-api", "TaskRoleArn"));
    const publish = api.filter((st) => list(st.Action).some((a) => a.startsWith("sns:")));
    expect(publish).toEqual([
      { Sid: "PublishOrders", Effect: "Allow", Action: "sns:Publish", Resource: { Ref: topicId } },
    ]);
  });

  it("the API's SQS rights per queue are what its ops plane calls, and it cannot take work off the orders queue", () => {
    const [queueId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders" });
    const [dlqId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders-dlq" });
    const api = roleStatements(s.json, taskRoleOf(s.json, "surge-dev-api", "TaskRoleArn"));
    const on = (id: string) =>
      api
        .filter((st) =>
          list(st.Resource).some((r) => JSON.stringify(r) === JSON.stringify({ "Fn::GetAtt": [id, "Arn"] })),
        )
        .flatMap((st) => list(st.Action))
        .sort();
    expect(on(queueId)).toEqual(["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:PurgeQueue"]);
    expect(on(dlqId)).toEqual([
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:PurgeQueue",
      "sqs:ReceiveMessage",
    ]);
  });

  it("the API manages only the worker service, its task definition family and its roles", () => {
    const [workerServiceId] = findResource(s.json, "AWS::ECS::Service", { ServiceName: "surge-dev-worker" });
    const api = roleStatements(s.json, taskRoleOf(s.json, "surge-dev-api", "TaskRoleArn"));
    const ecs = api.filter((st) => list(st.Action).some((a) => a.startsWith("ecs:")));
    for (const st of ecs.filter((x) => list(x.Action).some((a) => /^ecs:(UpdateService|DescribeServices)$/.test(a)))) {
      expect(st.Resource).toEqual({ Ref: workerServiceId });
    }
    const update = ecs.find((st) => st.Action === "ecs:UpdateService");
    expect(JSON.stringify(update?.Condition)).toContain(":task-definition/surge-dev-worker:*");
    // Whatever the API registers can only carry the worker's roles, and only for ECS tasks.
    const passRole = api.find((st) => st.Action === "iam:PassRole");
    expect(passRole?.Resource).toEqual([
      { "Fn::GetAtt": [taskRoleOf(s.json, "surge-dev-worker", "TaskRoleArn"), "Arn"] },
      { "Fn::GetAtt": [taskRoleOf(s.json, "surge-dev-worker", "ExecutionRoleArn"), "Arn"] },
    ]);
    expect(passRole?.Condition).toEqual({ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
    for (const st of ecs) {
      const resource = JSON.stringify(st.Resource);
      expect(resource).not.toContain("ApiService");
      expect(resource).not.toContain("WebService");
    }
  });

  it("the API changes only the scalable target tagged as the worker fleet's, and only that target carries the tag", () => {
    const api = roleStatements(s.json, taskRoleOf(s.json, "surge-dev-api", "TaskRoleArn"));
    const mutating = api.filter((st) =>
      list(st.Action).some((a) => /^application-autoscaling:(Register|Put|Delete|Deregister)/.test(a)),
    );
    expect(mutating).toHaveLength(1);
    expect(mutating[0]?.Condition).toEqual({
      StringEquals: { [`aws:ResourceTag/${SCALABLE_TARGET_TAG}`]: "surge-dev-worker" },
    });
    const tagged = resourcesOfType(s.json, "AWS::ApplicationAutoScaling::ScalableTarget").filter(([, r]) =>
      JSON.stringify(r.Properties?.Tags).includes(`"Key":"${SCALABLE_TARGET_TAG}","Value":"surge-dev-worker"`),
    );
    expect(tagged).toHaveLength(1);
    expect(JSON.stringify(tagged[0]?.[1].Properties?.ResourceId)).toContain("WorkerService");
  });

  it("each execution role reads only the secrets its containers are injected with", () => {
    const secretsRead = (family: string) =>
      roleStatements(s.json, taskRoleOf(s.json, family, "ExecutionRoleArn"))
        .filter((st) => list(st.Action).includes("secretsmanager:GetSecretValue"))
        .map((st) => (st.Resource as { Ref: string }).Ref)
        .sort();
    const injected = (family: string) => {
      const [, td] = findResource(s.json, "AWS::ECS::TaskDefinition", { Family: family });
      const defs = td.Properties?.ContainerDefinitions as Array<{ Secrets?: Array<{ ValueFrom: { Ref: string } }> }>;
      return [...new Set(defs.flatMap((d) => (d.Secrets ?? []).map((x) => x.ValueFrom.Ref)))].sort();
    };
    for (const family of ["surge-dev-api", "surge-dev-worker", "surge-dev-web"]) {
      expect(injected(family).length).toBeGreaterThan(0);
      expect(secretsRead(family)).toEqual(injected(family));
    }
  });

  it("the Lambda may write its own logs, join the VPC and send to the orders DLQ, nothing else", () => {
    const [, fn] = findResource(s.json, "AWS::Lambda::Function", { FunctionName: "surge-dev-order-processor" });
    const roleId = getAttId(fn.Properties?.Role);
    const [dlqId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders-dlq" });
    const lambda = roleStatements(s.json, roleId);
    expect(actionsOf(lambda)).toEqual(
      [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:UnassignPrivateIpAddresses",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
      ].sort(),
    );
    expect(lambda.filter((st) => list(st.Action).includes("sqs:SendMessage"))).toEqual([
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: { "Fn::GetAtt": [dlqId, "Arn"] } },
    ]);
  });

  it("SNS may send the Lambda subscription's undeliverable events to the orders DLQ, from the orders topic only", () => {
    const [topicId] = findResource(s.json, "AWS::SNS::Topic", { TopicName: "surge-dev-orders" });
    const [dlqId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders-dlq" });
    const policies = resourcesOfType(s.json, "AWS::SQS::QueuePolicy").filter(([, r]) =>
      list(r.Properties?.Queues as unknown[]).some((q) => JSON.stringify(q) === JSON.stringify({ Ref: dlqId })),
    );
    expect(policies).toHaveLength(1);
    const allows = statements.filter(({ where, statement: st }) => where === policies[0]?.[0] && st.Effect === "Allow");
    expect(allows.map(({ statement }) => statement)).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: { "Fn::GetAtt": [dlqId, "Arn"] },
        Condition: { ArnEquals: { "aws:SourceArn": { Ref: topicId } } },
      },
    ]);
  });
});
