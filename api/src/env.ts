import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { intVar, numberVar, parseEnv, sharedEnvShape, TASK_CONCURRENCY_MAX, TASK_CONCURRENCY_MIN } from "@surge/core";
import { z } from "zod";

const schema = z.object({
  ...sharedEnvShape,
  PORT: intVar(8080, 0, 65_535),
  HOST: z.string().min(1).default("127.0.0.1"),
  /** Bearer token for /ops/. Generated (and printed by the stack runner) when unset. */
  OPS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /**
   * Read-only bearer token for alert senders (Grafana's contact point, Prometheus): it may deliver
   * alerts to /ops/alerts and read, nothing else. Unset: alert senders need OPS_TOKEN.
   */
  ALERT_WEBHOOK_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /**
   * More operator tokens beside OPS_TOKEN, `label:token,label:token`: one per person or tool, so the
   * audit log names who did what and one can be revoked alone. Tokens at least 16 characters.
   */
  OPS_TOKENS: z.string().optional(),
  /** Read-only operator tokens, `label:token,…`: every /ops/ read, and 403 on every change. */
  OPS_READONLY_TOKENS: z.string().optional(),
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (rate limits, logs): Express's
   * `trust proxy`, as `loopback`, a comma list of addresses/subnets (the ALB's subnets on AWS), a hop
   * count, `true` or `false`. Behind a load balancer not trusted here, every customer shares its address.
   */
  TRUST_PROXY: z.string().min(1).default("loopback"),
  /**
   * Order intake (POST /orders/*) per client address: sustained requests/s and the burst allowed
   * after idling. Generous: the study's flash sale is 48 orders/s from all users together. 0 = no limit.
   */
  RATE_LIMIT_ORDERS_PER_SECOND: numberVar(1000, 0, 1_000_000),
  RATE_LIMIT_ORDERS_BURST: intVar(2000, 1, 10_000_000),
  /** The ops plane (/ops/*, signed in or not) per client address. 0 = no limit. */
  RATE_LIMIT_OPS_PER_SECOND: numberVar(50, 0, 1_000_000),
  RATE_LIMIT_OPS_BURST: intVar(200, 1, 10_000_000),
  /**
   * Orders whose message the broker lost are published again once nothing has touched them for this
   * long and the queue holds fewer messages than the store has waiting orders, in seconds. 0 = off.
   */
  REPUBLISH_STALE_AFTER_SECONDS: intVar(120, 0, 86_400),
  /** Time between the stale-order sweeps, in ms. */
  REPUBLISH_INTERVAL_MS: intVar(10_000, 100, 600_000),
  /**
   * POST /orders/sync answers 503 with Retry-After at once when the wait for one of this API's payment
   * slots would exceed this, in ms, instead of holding the customer. Unset: wait as long as it takes
   * (the study's behaviour). 0: only when a slot is free now.
   */
  SYNC_MAX_WAIT_MS: z.coerce.number().int("must be an integer").min(0).max(3_600_000).optional(),
  /** Initial desired worker task count. */
  WORKER_TASKS: intVar(1, 0, 1000),
  /** Initial per-task concurrency. */
  WORKER_CONCURRENCY: intVar(5, TASK_CONCURRENCY_MIN, TASK_CONCURRENCY_MAX),
  /** Upper bound for the desired task count (manual and autoscaled). */
  MAX_WORKER_TASKS: intVar(50, 1, 1000),
  /** Outbox rows leased per relay round. */
  OUTBOX_BATCH_SIZE: intVar(200, 10, 5000),
  /** How often the relay looks for rows when nothing woke it, in ms. */
  OUTBOX_POLL_INTERVAL_MS: intVar(250, 10, 60_000),
  /**
   * This deployment's own public base URL (the ALB's on AWS): the only target a
   * load burst may have. Unset: http://<HOST>:<bound port>, with 127.0.0.1 for a wildcard HOST.
   */
  API_BASE_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /**
   * Export SQS's ApproximateAgeOfOldestMessage from CloudWatch (surge_queue_oldest_message_age_seconds).
   * AWS only: the local emulator has no CloudWatch. Default false.
   */
  CLOUDWATCH_QUEUE_METRICS: z
    .enum(["true", "false", "1", "0"], "must be true or false")
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  /** Which fleet the ops plane drives: the local stack's task supervisor, or an ECS service (with Application Auto Scaling). */
  FLEET: z.enum(["local", "ecs"]).default("local"),
  /** The stack runner's fleet control endpoint (FLEET=local); `npm start` sets it. */
  FLEET_CONTROL_URL: z.url().default("http://127.0.0.1:4580"),
  /** Bearer token for the fleet control endpoint; the stack runner generates it per run. */
  FLEET_CONTROL_TOKEN: z.string().min(1).optional(),
  /** ECS cluster and worker service (FLEET=ecs), names or ARNs. */
  ECS_CLUSTER: z.string().min(1).optional(),
  ECS_SERVICE: z.string().min(1).optional(),
  /** The worker container's name in the service's task definition (FLEET=ecs). */
  ECS_WORKER_CONTAINER: z.string().min(1).default("worker"),
  /** Initial autoscaling policy, used until one is stored by PUT /ops/autoscaling. */
  AUTOSCALING_ENABLED: z
    .enum(["true", "false", "1", "0"], "must be true or false")
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  AUTOSCALING_MIN_TASKS: intVar(1, 0, 1000),
  /** Default MAX_WORKER_TASKS. */
  AUTOSCALING_MAX_TASKS: z.coerce.number().int().min(1).max(1000).optional(),
  AUTOSCALING_TARGET_BACKLOG_PER_TASK: numberVar(10, 0.001, 100_000),
  AUTOSCALING_SCALE_OUT_COOLDOWN_SECONDS: intVar(5, 0, 3600),
  AUTOSCALING_SCALE_IN_COOLDOWN_SECONDS: intVar(60, 0, 3600),
  /** Time between the local autoscaler's evaluations, in ms. */
  AUTOSCALING_EVALUATION_INTERVAL_MS: intVar(2000, 100, 600_000),
  /**
   * The local Lambda runtime's control endpoint (the stack runner's LAMBDA_CONTROL_PORT); `npm start`
   * sets it. With it, /ops/lambda reads the local function and orders can be routed to it.
   */
  LAMBDA_CONTROL_URL: z
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** On AWS: the Lambda function processing orders; /ops/lambda reads it from CloudWatch. */
  LAMBDA_FUNCTION_NAME: z.string().min(1).max(140).optional(),
  /** Its log group. Default /aws/lambda/<LAMBDA_FUNCTION_NAME>. */
  LAMBDA_LOG_GROUP: z.string().min(1).max(512).optional(),
  /** The function's memory size, in MB: the cost model's default. */
  LAMBDA_MEMORY_MB: intVar(512, 128, 10_240),
});

/** A bearer token for /ops/ with the label the audit log names and what it may do. */
interface OpsTokenSetting {
  token: string;
  label: string;
  role: "operator" | "read-only";
}

export type ApiEnv = z.infer<typeof schema> & {
  OPS_TOKEN: string;
  opsTokenGenerated: boolean;
  /** Every token /ops/ accepts: OPS_TOKEN ("operator"), ALERT_WEBHOOK_TOKEN ("alerts"), OPS_TOKENS, OPS_READONLY_TOKENS. */
  opsTokens: OpsTokenSetting[];
  trustProxy: boolean | number | string;
};

const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * Parses `label:token,label:token`. Problems name the variable and the entry's position and label,
 * never the token: configuration errors end up in logs.
 */
export function parseTokenList(
  name: string,
  value: string | undefined,
  role: OpsTokenSetting["role"],
  problems: string[],
): OpsTokenSetting[] {
  const out: OpsTokenSetting[] = [];
  const entries = (value ?? "").split(",").map((e) => e.trim());
  entries.forEach((entry, i) => {
    if (entry === "") return;
    const colon = entry.indexOf(":");
    const label = colon < 0 ? "" : entry.slice(0, colon).trim();
    const token = colon < 0 ? "" : entry.slice(colon + 1).trim();
    if (!LABEL.test(label)) {
      problems.push(`${name}: entry ${i + 1} needs label:token, the label 1-64 of [A-Za-z0-9_.@-]`);
    } else if (token.length < 16 || /\s/.test(token)) {
      problems.push(`${name}: the token labelled "${label}" must be at least 16 characters without spaces`);
    } else {
      out.push({ label, token, role });
    }
  });
  return out;
}

function parseTrustProxy(value: string, problems: string[]): boolean | number | string {
  if (value === "true" || value === "false") return value === "true";
  if (/^\d+$/.test(value)) return Number(value);
  for (const part of value.split(",").map((p) => p.trim())) {
    const [address = "", prefix, extra] = part.split("/");
    const family = isIP(address);
    const prefixOk =
      prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32) && family !== 0);
    if (!(PROXY_NAMES.has(part) || (family !== 0 && prefixOk && extra === undefined))) {
      problems.push(`TRUST_PROXY: "${part}" is not loopback/linklocal/uniquelocal, an address or a subnet`);
    }
  }
  return value;
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  const parsed = parseEnv(schema, env);
  const problems: string[] = [];
  if (parsed.FLEET === "ecs" && !parsed.ECS_CLUSTER) problems.push("ECS_CLUSTER: required when FLEET=ecs");
  if (parsed.FLEET === "ecs" && !parsed.ECS_SERVICE) problems.push("ECS_SERVICE: required when FLEET=ecs");
  const maxTasks = parsed.AUTOSCALING_MAX_TASKS ?? parsed.MAX_WORKER_TASKS;
  if (maxTasks > parsed.MAX_WORKER_TASKS) {
    problems.push(`AUTOSCALING_MAX_TASKS: ${maxTasks} is over MAX_WORKER_TASKS (${parsed.MAX_WORKER_TASKS})`);
  }
  if (parsed.AUTOSCALING_MIN_TASKS > maxTasks) {
    problems.push(`AUTOSCALING_MIN_TASKS: ${parsed.AUTOSCALING_MIN_TASKS} is over the maximum (${maxTasks})`);
  }
  if (parsed.LAMBDA_CONTROL_URL && parsed.LAMBDA_FUNCTION_NAME) {
    problems.push("LAMBDA_FUNCTION_NAME: give it (AWS) or LAMBDA_CONTROL_URL (local), not both");
  }
  const opsToken = parsed.OPS_TOKEN ?? randomBytes(24).toString("base64url");
  const opsTokens: OpsTokenSetting[] = [
    { token: opsToken, label: "operator", role: "operator" },
    ...(parsed.ALERT_WEBHOOK_TOKEN
      ? [{ token: parsed.ALERT_WEBHOOK_TOKEN, label: "alerts", role: "read-only" as const }]
      : []),
    ...parseTokenList("OPS_TOKENS", parsed.OPS_TOKENS, "operator", problems),
    ...parseTokenList("OPS_READONLY_TOKENS", parsed.OPS_READONLY_TOKENS, "read-only", problems),
  ];
  // One token, one actor: a label used twice would make the audit log ambiguous, a token used
  // twice would give one of its holders the other's role.
  opsTokens.forEach((t, i) => {
    const first = opsTokens.findIndex((o) => o.label === t.label);
    if (first < i) problems.push(`OPS_TOKENS/OPS_READONLY_TOKENS: the label "${t.label}" is used twice`);
    else if (opsTokens.findIndex((o) => o.token === t.token) < i) {
      problems.push(`OPS_TOKENS/OPS_READONLY_TOKENS: the token labelled "${t.label}" is also another label's token`);
    }
  });
  const trustProxy = parseTrustProxy(parsed.TRUST_PROXY, problems);
  if (problems.length > 0) throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return {
    ...parsed,
    OPS_TOKEN: opsToken,
    opsTokenGenerated: parsed.OPS_TOKEN === undefined,
    opsTokens,
    trustProxy,
  };
}

/** The schema itself, for the CDK app: the env a deployed API task gets is checked against it. */
export { schema as apiEnvSchema };
