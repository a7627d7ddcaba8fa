import { apiEnvSchema, loadEnv as loadApiEnv } from "@surge/api/env";
import { parseConsoleEnv, webEnvSchema } from "@surge/web/env";
import { loadEnv as loadWorkerEnv, workerEnvSchema } from "@surge/worker/env";
import { lambdaEnvSchema, loadLambdaEnv } from "@surge/worker/lambda-env";
import fc from "fast-check";
import { parse as parseConnectionString } from "pg-connection-string";
import { beforeAll, describe, expect, it } from "vitest";
import { safeParse } from "zod/mini";
import { loadStageConfig } from "../lib/config.js";
import { DATABASE_NAME, DATABASE_USER } from "../lib/database.js";
import {
  apiEnvironment,
  LAMBDA_RUNTIME_ENV,
  lambdaEnvironment,
  WORKER_CONTAINER_NAME,
  webEnvironment,
  workerEnvironment,
} from "../lib/environments.js";
import { assertServiceEnv, type EnvSchema, type ServiceEnv } from "../lib/service-env.js";
import {
  type CfnTemplate,
  findResource,
  resolveDynamicReferences,
  resolveIntrinsics,
  type Synthesized,
  secretValue,
  synthesize,
} from "./cdk-harness.js";

interface ContainerDefinition {
  Name: string;
  Environment?: Array<{ Name: string; Value: unknown }>;
  Secrets?: Array<{ Name: string; ValueFrom: unknown }>;
  StopTimeout?: number;
}

function container(json: CfnTemplate, family: string): ContainerDefinition {
  const [, taskDefinition] = findResource(json, "AWS::ECS::TaskDefinition", { Family: family });
  const containers = taskDefinition.Properties?.ContainerDefinitions as ContainerDefinition[];
  expect(containers).toHaveLength(1);
  return containers[0] as ContainerDefinition;
}

/** A deterministic value drawn from the characters a generated secret may hold. */
const fixedPick = (chars: string, length: number) =>
  Array.from({ length }, (_, i) => chars[(i * 7 + 3) % chars.length]).join("");

/**
 * The env a task of this container definition starts with, as ECS would hand it
 * over after the deploy: plain values with their intrinsics resolved, secrets
 * with the values Secrets Manager would hold.
 */
function deployedEnv(json: CfnTemplate, def: ContainerDefinition, pick = fixedPick): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { Name, Value } of def.Environment ?? []) env[Name] = String(resolveIntrinsics(json, Value));
  for (const { Name, ValueFrom } of def.Secrets ?? []) {
    const ref = (ValueFrom as { Ref?: string }).Ref;
    if (!ref) throw new Error(`${Name}: secrets must reference a whole secret of this stack`);
    env[Name] = secretValue(json, ref, pick);
  }
  return env;
}

function names(def: ContainerDefinition): string[] {
  return [...(def.Environment ?? []).map((e) => e.Name), ...(def.Secrets ?? []).map((s) => s.Name)].sort();
}

describe("the env each deployed service gets is exactly what its env.ts parses", () => {
  let s: Synthesized;
  let api: ContainerDefinition;
  let worker: ContainerDefinition;

  beforeAll(() => {
    s = synthesize();
    api = container(s.json, "surge-dev-api");
    worker = container(s.json, "surge-dev-worker");
  });

  const cases = [
    {
      service: "worker",
      family: "surge-dev-worker",
      schema: workerEnvSchema as unknown as EnvSchema,
      defaulted: () => workerEnvironment(wiringStub()).defaulted,
      def: () => worker,
    },
    {
      service: "api",
      family: "surge-dev-api",
      schema: apiEnvSchema as unknown as EnvSchema,
      defaulted: () => apiEnvironment({ ...wiringStub(), ...apiWiringStub() }).defaulted,
      def: () => api,
    },
  ];

  for (const c of cases) {
    it(`${c.service}: the task definition's variables plus the deliberately defaulted ones are the schema's names, each once`, () => {
      const given = names(c.def());
      const defaulted = Object.keys(c.defaulted()).sort();
      expect(new Set(given).size).toBe(given.length);
      expect(given.filter((n) => defaulted.includes(n))).toEqual([]);
      expect([...given, ...defaulted].sort()).toEqual(Object.keys(c.schema.shape).sort());
    });

    it(`${c.service}: every name the schema requires is in the task definition`, () => {
      const required = Object.entries(c.schema.shape)
        .filter(([, rule]) => !safeParse(rule, undefined).success)
        .map(([name]) => name);
      expect(names(c.def())).toEqual(expect.arrayContaining(required));
    });
  }

  it("worker: the deployed env parses with worker/src/env.ts, with the AWS values the stack means", () => {
    const env = loadWorkerEnv(deployedEnv(s.json, worker));
    expect(env.ORDERS_QUEUE).toBe("surge-dev-orders");
    expect(env.ORDERS_DLQ).toBe("surge-dev-orders-dlq");
    expect(env.ORDERS_TOPIC_ARN).toMatch(/^arn:aws:sns:[^:]+:\d{12}:surge-dev-orders$/);
    expect(env.DATABASE_URL).toMatch(/^postgresql:\/\//);
    expect(env.METRICS_HOST).toBe("0.0.0.0");
    expect(env.WAIT_TIME_SECONDS).toBe(20);
  });

  it("api: the deployed env parses with api/src/env.ts (cross-field rules included), driving the ECS fleet", () => {
    const env = loadApiEnv(deployedEnv(s.json, api));
    expect(env.HOST).toBe("0.0.0.0");
    expect(env.FLEET).toBe("ecs");
    expect(env.ECS_CLUSTER).toBe("surge-dev");
    expect(env.ECS_SERVICE).toBe("surge-dev-worker");
    expect(env.ECS_WORKER_CONTAINER).toBe(WORKER_CONTAINER_NAME);
    expect(env.opsTokenGenerated).toBe(false);
    expect(env.OPS_TOKEN).toHaveLength(48);
    expect(env.API_BASE_URL).toMatch(/^http:\/\/surge-dev-\d+\.[a-z0-9-]+\.elb\.amazonaws\.com$/);
    expect(env.AUTOSCALING_ENABLED).toBe(true);
  });

  it("lambda: the function's variables plus the defaulted ones are its schema's names; the rest is Node's own", () => {
    const [, fn] = findResource(s.json, "AWS::Lambda::Function", { FunctionName: "surge-dev-order-processor" });
    const variables = lambdaVariables(fn.Properties);
    const runtime = Object.keys(LAMBDA_RUNTIME_ENV);
    const given = Object.keys(variables).filter((n) => !runtime.includes(n));
    const defaulted = Object.keys(
      lambdaEnvironment({ config: wiringStub().config, databaseUrlValue: "", timeoutSeconds: 16 }).defaulted,
    );
    expect([...given, ...defaulted].sort()).toEqual(Object.keys(lambdaEnvSchema.shape).sort());
    expect(runtime.filter((n) => n in lambdaEnvSchema.shape)).toEqual([]);
    expect(variables.NODE_EXTRA_CA_CERTS).toBe("/var/runtime/ca-cert.pem");
  });

  it("lambda: the deployed env parses with worker/src/lambda/env.ts; the lease is bounded by the timeout", () => {
    const [, fn] = findResource(s.json, "AWS::Lambda::Function", { FunctionName: "surge-dev-order-processor" });
    const variables = lambdaVariables(fn.Properties);
    const deployed = Object.fromEntries(
      Object.entries(variables).map(([k, v]) => [
        k,
        resolveDynamicReferences(s.json, String(resolveIntrinsics(s.json, v)), fixedPick),
      ]),
    );
    const env = loadLambdaEnv({ ...deployed, AWS_LAMBDA_FUNCTION_NAME: "surge-dev-order-processor" });
    expect(env.DATABASE_URL).toBe(deployedEnv(s.json, worker).DATABASE_URL);
    expect(env.LAMBDA_LEASE_MS).toBe(Number(fn.Properties?.Timeout) * 1000);
    expect(env.PAYMENT_DURATION_MS).toBe(loadWorkerEnv(deployedEnv(s.json, worker)).PAYMENT_DURATION_MS);
    // The password is resolved by CloudFormation at deploy time; the template holds only the reference.
    expect(JSON.stringify(variables.DATABASE_URL)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:/);
  });

  it("the worker task's settings agree with the queue and the container they run against", () => {
    const env = loadWorkerEnv(deployedEnv(s.json, worker));
    const [, queue] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders" });
    const q = queue.Properties ?? {};
    expect(env.VISIBILITY_TIMEOUT_SECONDS).toBe(q.VisibilityTimeout);
    expect(env.WAIT_TIME_SECONDS).toBe(q.ReceiveMessageWaitTimeSeconds);
    expect(env.MAX_RECEIVE_COUNT).toBe((q.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount);
    // ECS's SIGKILL comes after the worker's own deadline and its hand-back.
    expect((worker.StopTimeout ?? 0) * 1000).toBeGreaterThan(env.SHUTDOWN_DEADLINE_MS);
    expect(worker.Name).toBe(WORKER_CONTAINER_NAME);
  });

  it("API and worker agree on every variable they share", () => {
    const a = deployedEnv(s.json, api);
    const w = deployedEnv(s.json, worker);
    const shared = Object.keys(a).filter((k) => k in w);
    expect(shared.length).toBeGreaterThan(5);
    for (const key of shared) expect([key, a[key]]).toEqual([key, w[key]]);
  });

  it("DATABASE_URL parses for every password Secrets Manager may generate, and pg reads it as meant", () => {
    const [masterId, master] = findResource(s.json, "AWS::SecretsManager::Secret", {
      Name: "surge/dev/database-master",
    });
    const chars = [
      ...new Set(
        String((master.Properties?.GenerateSecretString as Record<string, unknown> | undefined)?.ExcludeCharacters),
      ),
    ];
    expect(masterId).toBeTruthy();
    const [urlId] = findResource(s.json, "AWS::SecretsManager::Secret", { Name: "surge/dev/database-url" });
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 30, maxLength: 30 }), (draws) => {
        let password = "";
        const url = secretValue(s.json, urlId, (allowed, length) => {
          password = Array.from({ length }, (_, i) => allowed[(draws[i] ?? 0) % allowed.length]).join("");
          return password;
        });
        for (const c of chars) expect(password).not.toContain(c);
        expect(loadWorkerEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
        const parsed = parseConnectionString(url);
        expect(parsed.user).toBe(DATABASE_USER);
        expect(parsed.password).toBe(password);
        expect(parsed.database).toBe(DATABASE_NAME);
        expect(parsed.port).toBe("5432");
        expect(parsed.host).toMatch(/\.rds\.amazonaws\.com$/);
        // TLS with the server's name and certificate checked (the images trust RDS's CAs).
        expect(parsed.ssl).toEqual({});
        expect(new URL(url).searchParams.get("sslmode")).toBe("verify-full");
      }),
      { numRuns: 50 },
    );
  });
});

describe("the console's env (web on, HTTPS)", () => {
  let s: Synthesized;
  let web: ContainerDefinition;
  let api: ContainerDefinition;
  beforeAll(() => {
    s = synthesize(
      { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" },
      { web: true },
    );
    web = container(s.json, "surge-dev-web");
    api = container(s.json, "surge-dev-api");
  });

  it("the task definition's variables plus the defaulted ones are web/src/env.ts's names, each once", () => {
    const defaulted = Object.keys(
      webEnvironment({
        apiUrl: "http://api",
        publicUrl: "https://x",
        https: true,
        opsToken: {} as never,
        sessionSecret: {} as never,
      }).defaulted,
    );
    expect([...names(web), ...defaulted].sort()).toEqual(Object.keys(webEnvSchema.shape).sort());
  });

  it("parses with the console's own parser: the API inside the VPC, its public origin, one token with the API", () => {
    const env = parseConsoleEnv(deployedEnv(s.json, web));
    expect(env.SURGE_API_URL).toBe("http://api.surge-dev.internal:8080");
    expect(env.CONSOLE_ORIGIN).toMatch(/^https:\/\/surge-dev-\d+\.[a-z0-9-]+\.elb\.amazonaws\.com$/);
    expect(env.COOKIE_SECURE).toBe("true");
    expect(env.SESSION_SECRET?.length).toBeGreaterThanOrEqual(32);
    expect(env.SURGE_OPS_TOKEN).toBe(loadApiEnv(deployedEnv(s.json, api)).OPS_TOKEN);
    expect(loadApiEnv(deployedEnv(s.json, api)).API_BASE_URL).toBe(env.CONSOLE_ORIGIN);
  });
});

describe("assertServiceEnv (the synth-time check)", () => {
  const schema = workerEnvSchema as unknown as EnvSchema;
  const good = () => workerEnvironment(wiringStub());

  it("accepts the worker env the stack builds", () => {
    expect(() => assertServiceEnv("worker", schema, good())).not.toThrow();
  });

  it("rejects a name the service does not parse (a typo would be silently ignored)", () => {
    const env = good() as ServiceEnv<string>;
    env.environment = { ...env.environment, VISIBILITY_TIMEOUT_SECOND: "16" };
    expect(() => assertServiceEnv("worker", schema, env)).toThrow(
      /VISIBILITY_TIMEOUT_SECOND \(in environment\) is not/,
    );
  });

  it("rejects a schema name that is neither set nor deliberately defaulted", () => {
    const env = good();
    delete env.defaulted.TASK_ID;
    expect(() => assertServiceEnv("worker", schema, env)).toThrow(
      /TASK_ID is parsed by worker's env.ts but neither set/,
    );
  });

  it("rejects a name given twice", () => {
    const env = good();
    env.defaulted.METRICS_PORT = "twice";
    expect(() => assertServiceEnv("worker", schema, env)).toThrow(/METRICS_PORT is given twice/);
  });

  it("rejects a literal value the schema would refuse at start-up", () => {
    const env = good();
    env.environment.WAIT_TIME_SECONDS = "25";
    expect(() => assertServiceEnv("worker", schema, env)).toThrow(/WAIT_TIME_SECONDS="25"/);
  });

  it("rejects defaulting a variable that has no default", () => {
    const env = good() as ServiceEnv<string>;
    const strict = { shape: { ...schema.shape, NEEDED: workerEnvSchema.shape.TASK_ID.unwrap() } } as EnvSchema;
    env.defaulted = { ...env.defaulted, NEEDED: "no" };
    expect(() => assertServiceEnv("worker", strict, env)).toThrow(
      /NEEDED has no default in worker's env.ts, so it must be set/,
    );
  });
});

function lambdaVariables(properties: Record<string, unknown> | undefined): Record<string, unknown> {
  const variables = (properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  if (!variables) throw new Error("the function has no environment");
  return variables;
}

function wiringStub() {
  const secret = { arn: "secret" } as never;
  return {
    config: loadStageConfig(() => undefined),
    topicName: "surge-dev-orders",
    topicArn: "arn:aws:sns:eu-west-1:123456789012:surge-dev-orders",
    queueName: "surge-dev-orders",
    deadLetterQueueName: "surge-dev-orders-dlq",
    visibilityTimeoutSeconds: 16,
    databaseUrl: secret,
  };
}

function apiWiringStub() {
  return {
    opsToken: { arn: "token" } as never,
    publicBaseUrl: "http://example.elb.amazonaws.com",
    clusterName: "surge-dev",
    workerServiceName: "surge-dev-worker",
    targetBacklogPerTask: 50,
    lambdaFunctionName: "surge-dev-order-processor",
    lambdaLogGroupName: "/aws/lambda/surge-dev-order-processor",
  };
}
