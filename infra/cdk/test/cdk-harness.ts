import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { loadStageConfig } from "../lib/config.js";
import { SurgeStack } from "../lib/surge-stack.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** infra/cdk/cdk.json's context: the feature flags and per-stage defaults the real app runs with. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(repoRoot, "infra", "cdk", "cdk.json"), "utf8")) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface Synthesized {
  stack: SurgeStack;
  template: Template;
  json: CfnTemplate;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[] | string;
}

/**
 * Synthesizes the stack as `cdk synth` would, with cdk.json's context plus `context`, skipping asset staging
 * and the Lambda's bundling (which needs worker/dist/lambda.js): the synth test covers those.
 */
export function synthesize(context: Record<string, unknown> = {}, options: { web?: boolean } = {}): Synthesized {
  const app = new App({
    analyticsReporting: false,
    context: {
      ...cdkJsonContext(),
      ...context,
      "aws:cdk:bundling-stacks": [],
      "aws:cdk:disable-asset-staging": true,
    },
  });
  const config = loadStageConfig((key) => app.node.tryGetContext(key));
  const stack = new SurgeStack(app, `Surge-${config.stage}`, {
    stackName: `surge-${config.stage}`,
    config,
    repoRoot,
    lambdaBundleDir: join(repoRoot, "worker", "dist"),
    web: options.web ?? false,
  });
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() as CfnTemplate };
}

/** The resources of one type, by logical id. */
export function resourcesOfType(json: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

/** The one resource of `type` whose properties include `match` (shallow equality on the given keys). */
export function findResource(json: CfnTemplate, type: string, match: Record<string, unknown>): [string, CfnResource] {
  const found = resourcesOfType(json, type).filter(([, r]) =>
    Object.entries(match).every(([k, v]) => JSON.stringify(r.Properties?.[k]) === JSON.stringify(v)),
  );
  if (found.length !== 1) throw new Error(`expected one ${type} with ${JSON.stringify(match)}, found ${found.length}`);
  return found[0] as [string, CfnResource];
}

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

/**
 * Resolves CloudFormation intrinsics to the values they would have after a
 * deploy, for the resource types the services' env refers to. A token of a kind
 * not handled here throws, so a new kind of reference gets a deliberate value.
 */
export function resolveIntrinsics(json: CfnTemplate, value: unknown): unknown {
  const resolveValue = (v: unknown): unknown => {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
    if (Array.isArray(v)) return v.map(resolveValue);
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    if ("Ref" in o) return ref(String(o.Ref));
    if ("Fn::GetAtt" in o) {
      const [id, attr] = o["Fn::GetAtt"] as [string, string];
      return getAtt(id, attr);
    }
    if ("Fn::Join" in o) {
      const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
      return parts.map((p) => String(resolveValue(p))).join(sep);
    }
    if ("Fn::Sub" in o) {
      return String(o["Fn::Sub"]).replace(/\$\{([^}]+)\}/g, (_, name: string) => String(ref(name)));
    }
    if ("Fn::Select" in o) {
      const [index, list] = o["Fn::Select"] as [number, unknown];
      return (resolveValue(list) as unknown[])[index];
    }
    return Object.fromEntries(Object.entries(o).map(([k, inner]) => [k, resolveValue(inner)]));
  };
  const props = (id: string) => {
    const resource = json.Resources[id];
    if (!resource) throw new Error(`no resource ${id}`);
    return { type: resource.Type, p: resource.Properties ?? {} };
  };
  const ref = (id: string): unknown => {
    const pseudo: Record<string, string> = {
      "AWS::Region": REGION,
      "AWS::AccountId": ACCOUNT,
      "AWS::Partition": "aws",
      "AWS::URLSuffix": "amazonaws.com",
      "AWS::StackName": "surge-test",
    };
    if (id in pseudo) return pseudo[id];
    const { type, p } = props(id);
    switch (type) {
      case "AWS::SNS::Topic":
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${p.TopicName}`;
      case "AWS::SQS::Queue":
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${p.QueueName}`;
      case "AWS::ECS::Cluster":
        return p.ClusterName;
      case "AWS::ECS::Service":
        return `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${resolveValue(ref(String((p.Cluster as { Ref: string }).Ref)))}/${p.ServiceName}`;
      case "AWS::SecretsManager::Secret":
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${p.Name}-AbCdEf`;
      case "AWS::SecretsManager::SecretTargetAttachment":
        // The attachment's Ref is the ARN of the secret it attaches.
        return ref(String((p.SecretId as { Ref: string }).Ref));
      case "AWS::Logs::LogGroup":
        return p.LogGroupName;
      case "AWS::Lambda::Function":
        return p.FunctionName;
      default:
        throw new Error(`no test value for Ref of ${type} (${id})`);
    }
  };
  const getAtt = (id: string, attr: string): unknown => {
    const { type, p } = props(id);
    const key = `${type}.${attr}`;
    switch (key) {
      case "AWS::SNS::Topic.TopicName":
        return p.TopicName;
      case "AWS::SNS::Topic.TopicArn":
        return ref(id);
      case "AWS::SQS::Queue.QueueName":
        return p.QueueName;
      case "AWS::SQS::Queue.Arn":
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${p.QueueName}`;
      case "AWS::ECS::Service.Name":
        return p.ServiceName;
      case "AWS::ElasticLoadBalancingV2::LoadBalancer.DNSName":
        return `${p.Name}-1234567890.${REGION}.elb.amazonaws.com`;
      case "AWS::RDS::DBInstance.Endpoint.Address":
        return `surge-db.abcdefghijkl.${REGION}.rds.amazonaws.com`;
      case "AWS::RDS::DBInstance.Endpoint.Port":
        return "5432";
      case "AWS::Logs::LogGroup.Arn":
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${p.LogGroupName}:*`;
      default:
        throw new Error(`no test value for GetAtt ${key} (${id})`);
    }
  };
  return resolveValue(value);
}

/** Characters Secrets Manager may put in a generated secret, given its GenerateSecretString. */
export function generatableCharacters(generate: Record<string, unknown>): string {
  const punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  let chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  if (!generate.ExcludePunctuation) chars += punctuation;
  const excluded = String(generate.ExcludeCharacters ?? "");
  return [...chars].filter((c) => !excluded.includes(c)).join("");
}

/**
 * A secret's value as a task would see it: generated secrets get a value drawn
 * from the characters Secrets Manager may use (`pick` chooses them), assembled
 * ones have their intrinsics and `{{resolve:secretsmanager:…}}` references resolved.
 */
export function secretValue(
  json: CfnTemplate,
  logicalId: string,
  pick: (chars: string, length: number) => string,
): string {
  const resource = json.Resources[logicalId];
  if (resource?.Type !== "AWS::SecretsManager::Secret") throw new Error(`${logicalId} is not a secret`);
  const p = resource.Properties ?? {};
  const generate = p.GenerateSecretString as Record<string, unknown> | undefined;
  if (generate) {
    const value = pick(generatableCharacters(generate), Number(generate.PasswordLength ?? 32));
    if (!generate.GenerateStringKey) return value;
    const base = JSON.parse(String(generate.SecretStringTemplate ?? "{}")) as Record<string, unknown>;
    return JSON.stringify({ ...base, [String(generate.GenerateStringKey)]: value });
  }
  return resolveDynamicReferences(json, String(resolveIntrinsics(json, p.SecretString)), pick);
}

/** Replaces `{{resolve:secretsmanager:<arn>:SecretString:<key>::}}` with the referenced secret's value. */
export function resolveDynamicReferences(
  json: CfnTemplate,
  text: string,
  pick: (chars: string, length: number) => string,
): string {
  return text.replace(/\{\{resolve:secretsmanager:((?:[^:]+:){6}[^:]+):SecretString:([^:]*)::\}\}/g, (_, arn, key) => {
    const [id] = Object.entries(json.Resources).find(
      ([candidate, r]) =>
        r.Type === "AWS::SecretsManager::Secret" && resolveIntrinsics(json, { Ref: candidate }) === arn,
    ) ?? [undefined];
    if (!id) throw new Error(`no secret in the template has the ARN ${arn}`);
    const referenced = secretValue(json, id, pick);
    return key ? String((JSON.parse(referenced) as Record<string, unknown>)[key]) : referenced;
  });
}
