import { randomBytes } from "node:crypto";
import { intVar, parseEnv, sharedEnvShape } from "@surge/core";
import { z } from "zod";

const schema = z.object({
  ...sharedEnvShape,
  PORT: intVar(8080, 0, 65_535),
  HOST: z.string().min(1).default("127.0.0.1"),
  /** Bearer token for /ops/. Generated (and printed by the stack runner) when unset. */
  OPS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Initial desired worker task count. */
  WORKER_TASKS: intVar(1, 0, 1000),
  /** Initial per-task concurrency. */
  WORKER_CONCURRENCY: intVar(5, 1, 200),
  /** Upper bound for the desired task count (manual and autoscaled). */
  MAX_WORKER_TASKS: intVar(50, 1, 1000),
  /** Outbox rows leased per relay round. */
  OUTBOX_BATCH_SIZE: intVar(200, 10, 5000),
  /** How often the relay looks for rows when nothing woke it, in ms. */
  OUTBOX_POLL_INTERVAL_MS: intVar(250, 10, 60_000),
});

export type ApiEnv = z.infer<typeof schema> & { OPS_TOKEN: string; opsTokenGenerated: boolean };

export function loadEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  const parsed = parseEnv(schema, env);
  const generated = parsed.OPS_TOKEN === undefined;
  return {
    ...parsed,
    OPS_TOKEN: parsed.OPS_TOKEN ?? randomBytes(24).toString("base64url"),
    opsTokenGenerated: generated,
  };
}

/** The schema itself, for the CDK app: the env a deployed API task gets is checked against it. */
export { schema as apiEnvSchema };
