/**
 * The Lambda function's variables as data, read at init without zod: even zod/mini's module and schema
 * cost a cold start ~3 ms. env.ts builds the zod schema the CDK app checks the deployed env against from
 * this same table, and a test holds the two readers to the same answers.
 * Names, bounds and defaults match packages/core/src/env.ts.
 */

type Spec =
  | { readonly type: "int" | "number"; readonly min: number; readonly max: number; readonly default: number }
  | { readonly type: "string"; readonly default: string }
  | { readonly type: "enum"; readonly values: readonly string[]; readonly default: string }
  /** Optional: set → PostgreSQL; unset or empty → SQLite in DATA_DIR. */
  | { readonly type: "postgres-url" };

export const LAMBDA_ENV_VARS = {
  PAYMENT_DURATION_MS: { type: "int", min: 0, max: 600_000, default: 3000 },
  PAYMENT_SLOTS: { type: "int", min: 1, max: 1000, default: 5 },
  PAYMENT_FAILURE_RATE: { type: "number", min: 0, max: 1, default: 0 },
  DATA_DIR: { type: "string", default: "./var" },
  DATABASE_URL: { type: "postgres-url" },
  MAX_RECEIVE_COUNT: { type: "int", min: 1, max: 1000, default: 5 },
  LOG_LEVEL: { type: "enum", values: ["debug", "info", "warn", "error"], default: "info" },
  /** Lease an invocation holds on an order, in ms; the function timeout is the natural bound. */
  LAMBDA_LEASE_MS: { type: "int", min: 1000, max: 900_000, default: 30_000 },
  /** Set by the Lambda runtime. */
  AWS_LAMBDA_FUNCTION_NAME: { type: "string", default: "surge-orders" },
  /** Set by the Lambda runtime: names this execution environment (its log stream). */
  AWS_LAMBDA_LOG_STREAM_NAME: { type: "string", default: `local-${process.pid}` },
} as const satisfies Record<string, Spec>;

export type LambdaEnvVars = typeof LAMBDA_ENV_VARS;

type ValueOf<S> = S extends { type: "int" | "number" }
  ? number
  : S extends { type: "enum"; values: readonly (infer V)[] }
    ? V
    : S extends { type: "postgres-url" }
      ? string | undefined
      : string;

export type LambdaEnv = { -readonly [K in keyof LambdaEnvVars]: ValueOf<LambdaEnvVars[K]> };

export const POSTGRES_URL = /^$|^postgres(ql)?:\/\//;

/** One variable's value, or why not (as z.coerce.number and friends would accept or refuse it). */
function read(spec: Spec, raw: string | undefined): { value: unknown } | { problem: string } {
  if (spec.type === "postgres-url") {
    if (raw === undefined) return { value: undefined };
    return POSTGRES_URL.test(raw) ? { value: raw } : { problem: "must be a postgres:// URL" };
  }
  if (raw === undefined) return { value: spec.default };
  switch (spec.type) {
    case "int":
    case "number": {
      const n = Number(raw);
      if (!Number.isFinite(n)) return { problem: `must be a number, not ${JSON.stringify(raw)}` };
      if (spec.type === "int" && !Number.isSafeInteger(n)) return { problem: "must be an integer" };
      if (n < spec.min || n > spec.max) return { problem: `must be from ${spec.min} to ${spec.max}` };
      return { value: n };
    }
    case "string":
      return raw.length >= 1 ? { value: raw } : { problem: "must not be empty" };
    case "enum":
      return spec.values.includes(raw) ? { value: raw } : { problem: `must be one of ${spec.values.join(", ")}` };
  }
}

/** Parses once at init; a bad value fails the init naming every offending variable, like parseEnv. */
export function loadLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(LAMBDA_ENV_VARS) as [string, Spec][]) {
    const result = read(spec, env[name]);
    if ("problem" in result) problems.push(`${name}: ${result.problem}`);
    else if (result.value !== undefined) values[name] = result.value;
  }
  if (problems.length > 0) throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return values as LambdaEnv;
}
