import { z } from "zod";

/**
 * Parses configuration once at start-up. A bad value throws one error naming
 * every offending variable, so a misconfigured task fails fast and says why.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${String(i.path[0] ?? "env")}: ${i.message}`);
  throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
}

/** An integer environment variable within bounds, with a default. */
export const intVar = (defaultValue: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(defaultValue);

/** A number environment variable within bounds, with a default. */
export const numberVar = (defaultValue: number, min: number, max: number) =>
  z.coerce.number().min(min).max(max).default(defaultValue);

/** Orders one worker task works on at once (WORKER_CONCURRENCY): one bound for the env, the fleet API and the console. */
export const TASK_CONCURRENCY_MIN = 1;
export const TASK_CONCURRENCY_MAX = 200;

/** Environment shared by every deployable that touches orders. */
export const sharedEnvShape = {
  PAYMENT_DURATION_MS: intVar(3000, 0, 600_000),
  PAYMENT_SLOTS: intVar(5, 1, 1000),
  PAYMENT_FAILURE_RATE: numberVar(0, 0, 1),
  DATA_DIR: z.string().min(1).default("./var"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  ORDERS_TOPIC: z.string().min(1).default("surge-orders"),
  ORDERS_TOPIC_ARN: z.string().startsWith("arn:").optional(),
  ORDERS_QUEUE: z.string().min(1).default("surge-orders"),
  ORDERS_DLQ: z.string().min(1).default("surge-orders-dlq"),
  MAX_RECEIVE_COUNT: intVar(5, 1, 1000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
};
