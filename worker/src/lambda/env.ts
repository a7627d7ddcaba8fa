import * as z from "zod/mini";

/** An integer variable within bounds, with a default (the mini build of core's intVar). */
const intVar = (defaultValue: number, min: number, max: number) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max)), defaultValue);

/**
 * The worker's order settings plus what the Lambda runtime sets. zod/mini, not core's parseEnv:
 * classic zod adds ~30 ms to every cold start; names, bounds and defaults match packages/core/src/env.ts.
 */
const schema = z.object({
  PAYMENT_DURATION_MS: intVar(3000, 0, 600_000),
  PAYMENT_SLOTS: intVar(5, 1, 1000),
  PAYMENT_FAILURE_RATE: z._default(z.coerce.number().check(z.minimum(0), z.maximum(1)), 0),
  DATA_DIR: z._default(z.string().check(z.minLength(1)), "./var"),
  /** Set → PostgreSQL; unset or empty → SQLite in DATA_DIR. */
  DATABASE_URL: z.optional(z.string().check(z.regex(/^$|^postgres(ql)?:\/\//, "must be a postgres:// URL"))),
  MAX_RECEIVE_COUNT: intVar(5, 1, 1000),
  LOG_LEVEL: z._default(z.enum(["debug", "info", "warn", "error"]), "info"),
  /** Lease an invocation holds on an order, in ms; the function timeout is the natural bound. Default 30000. */
  LAMBDA_LEASE_MS: intVar(30_000, 1000, 900_000),
  /** Set by the Lambda runtime. */
  AWS_LAMBDA_FUNCTION_NAME: z._default(z.string().check(z.minLength(1)), "surge-orders"),
  /** Set by the Lambda runtime: names this execution environment (its log stream). */
  AWS_LAMBDA_LOG_STREAM_NAME: z._default(z.string().check(z.minLength(1)), `local-${process.pid}`),
});

type LambdaEnv = z.infer<typeof schema>;

/** Parses once at init; a bad value fails the init naming every offending variable, like parseEnv. */
export function loadLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${String(i.path[0] ?? "env")}: ${i.message}`);
  throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
}

/** The schema itself, for the CDK app: the env the deployed function gets is checked against it. */
export { schema as lambdaEnvSchema };
