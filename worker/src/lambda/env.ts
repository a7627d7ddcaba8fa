import * as z from "zod/mini";
import { LAMBDA_ENV_VARS, type LambdaEnvVars, POSTGRES_URL } from "./config.js";

/**
 * The function's variables as a zod/mini schema, for the CDK app: the env the deployed function gets
 * is checked against it. Built from config.ts's table; the function itself reads its env with
 * config.ts's loadLambdaEnv, without loading zod at init.
 */
function zodFor(spec: LambdaEnvVars[keyof LambdaEnvVars]): z.ZodMiniType {
  switch (spec.type) {
    case "int":
      return z._default(z.coerce.number().check(z.int(), z.minimum(spec.min), z.maximum(spec.max)), spec.default);
    case "number":
      return z._default(z.coerce.number().check(z.minimum(spec.min), z.maximum(spec.max)), spec.default);
    case "string":
      return z._default(z.string().check(z.minLength(1)), spec.default);
    case "enum":
      return z._default(z.enum(spec.values), spec.default);
    case "postgres-url":
      return z.optional(z.string().check(z.regex(POSTGRES_URL, "must be a postgres:// URL")));
  }
}

const schema = z.object(
  Object.fromEntries(Object.entries(LAMBDA_ENV_VARS).map(([name, spec]) => [name, zodFor(spec)])) as {
    [K in keyof LambdaEnvVars]: z.ZodMiniType;
  },
);

export { type LambdaEnv, loadLambdaEnv } from "./config.js";
export { schema as lambdaEnvSchema };
