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

/**
 * A number environment variable within bounds, with a default. A bad value is named with what is
 * expected: `PAYMENT_SLOTS: "abc" is not a whole number; expected 1 to 1000` (not zod's "expected
 * number, received NaN"). Read as `Number()` reads it, as before.
 */
function boundedVar(defaultValue: number, min: number, max: number, whole: boolean) {
  const range = `expected ${min} to ${max}`;
  return z
    .union([z.string(), z.number()])
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return defaultValue;
      const value = Number(raw);
      const shown = JSON.stringify(String(raw));
      if (!Number.isFinite(value) || (whole && !Number.isSafeInteger(value))) {
        ctx.addIssue({ code: "custom", message: `${shown} is not a ${whole ? "whole number" : "number"}; ${range}` });
        return z.NEVER;
      }
      if (value < min || value > max) {
        ctx.addIssue({ code: "custom", message: `${shown} is out of range; ${range}` });
        return z.NEVER;
      }
      return value;
    });
}

/** An integer environment variable within bounds, with a default. */
export const intVar = (defaultValue: number, min: number, max: number) => boundedVar(defaultValue, min, max, true);

/** A number environment variable within bounds, with a default. */
export const numberVar = (defaultValue: number, min: number, max: number) => boundedVar(defaultValue, min, max, false);

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
