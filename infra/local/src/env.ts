import { resolve } from "node:path";
import { parseTokenList } from "@surge/api/env";
import { intVar, parseEnv, sharedEnvShape, TASK_CONCURRENCY_MAX, TASK_CONCURRENCY_MIN } from "@surge/core";
import { z } from "zod";
import { portClashes } from "./ports.js";

const schema = z.object({
  ...sharedEnvShape,
  PORT: intVar(8080, 1, 65_535),
  WEB_PORT: intVar(3000, 1, 65_535),
  /** Grafana's base URL (the compose Grafana): the console links each page to its dashboard. Optional. */
  GRAFANA_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be an http(s) URL")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  EMULATOR_PORT: intVar(4566, 1, 65_535),
  PROMETHEUS_PORT: intVar(9090, 1, 65_535),
  /** Port of the local fleet's control endpoint (the API's stand-in for the ECS API). */
  FLEET_CONTROL_PORT: intVar(4580, 1, 65_535),
  OPS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Named operator tokens and read-only tokens for /ops/ (`label:token,…`); passed to the API as they are. */
  OPS_TOKENS: z.string().optional(),
  OPS_READONLY_TOKENS: z.string().optional(),
  WORKER_TASKS: intVar(1, 0, 1000),
  WORKER_CONCURRENCY: intVar(5, TASK_CONCURRENCY_MIN, TASK_CONCURRENCY_MAX),
  MAX_WORKER_TASKS: intVar(50, 1, 1000),
  /** The orders queue's visibility timeout, in seconds. */
  VISIBILITY_TIMEOUT_SECONDS: intVar(30, 1, 43_200),
  /** Run the local Lambda runtime (and the `<topic>-lambda` subscription that feeds it). Default true. */
  LAMBDA_ENABLED: z
    .enum(["true", "false", "1", "0"], "must be true or false")
    .default("true")
    .transform((v) => v === "true" || v === "1"),
  /** Port of the local Lambda runtime's control endpoint and /metrics (loopback). */
  LAMBDA_CONTROL_PORT: intVar(4581, 1, 65_535),
  /** Invocations the local function runs at once; beyond it they are throttled and retried. */
  LAMBDA_RESERVED_CONCURRENCY: intVar(10, 1, 1000),
  /** The function's memory size, in MB (what Lambda bills GB-seconds on). The study: 512. */
  LAMBDA_MEMORY_MB: intVar(512, 128, 10_240),
  /** Invocation timeout, in seconds. The study: 30. */
  LAMBDA_TIMEOUT_SECONDS: intVar(30, 1, 900),
  /** How long an idle execution environment stays warm before it is shut down, in seconds. */
  LAMBDA_IDLE_TIMEOUT_SECONDS: intVar(300, 1, 86_400),
});

type StackEnv = z.infer<typeof schema> & { extraOpsTokenLabels: string[] };

export function loadEnv(env: NodeJS.ProcessEnv = process.env): StackEnv {
  const parsed = parseEnv(schema, env);
  const problems: string[] = [];
  if (parsed.WORKER_TASKS > parsed.MAX_WORKER_TASKS) {
    problems.push(`WORKER_TASKS: ${parsed.WORKER_TASKS} is over MAX_WORKER_TASKS (${parsed.MAX_WORKER_TASKS})`);
  }
  // Two pieces on one port: refused before anything starts (the console would serve the API's URL, or fail).
  problems.push(
    ...portClashes([
      { piece: "the API", port: parsed.PORT, variable: "PORT" },
      { piece: "the console", port: parsed.WEB_PORT, variable: "WEB_PORT" },
      { piece: "the SNS/SQS emulator", port: parsed.EMULATOR_PORT, variable: "EMULATOR_PORT" },
      { piece: "Prometheus", port: parsed.PROMETHEUS_PORT, variable: "PROMETHEUS_PORT" },
      { piece: "the fleet control endpoint", port: parsed.FLEET_CONTROL_PORT, variable: "FLEET_CONTROL_PORT" },
      ...(parsed.LAMBDA_ENABLED
        ? [{ piece: "the Lambda runtime", port: parsed.LAMBDA_CONTROL_PORT, variable: "LAMBDA_CONTROL_PORT" }]
        : []),
    ]),
  );
  // Checked here with the API's own parser, so a bad token list stops `npm start` at once, not after a health timeout.
  const extraOpsTokens = [
    ...parseTokenList("OPS_TOKENS", parsed.OPS_TOKENS, "operator", problems),
    ...parseTokenList("OPS_READONLY_TOKENS", parsed.OPS_READONLY_TOKENS, "read-only", problems),
  ];
  if (problems.length > 0) throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return {
    ...parsed,
    DATA_DIR: resolve(parsed.DATA_DIR),
    /** Labels and roles of OPS_TOKENS and OPS_READONLY_TOKENS, for the start-up banner (never the tokens). */
    extraOpsTokenLabels: extraOpsTokens.map((t) => `${t.label} (${t.role})`),
  };
}
