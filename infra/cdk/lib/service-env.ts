import { Token } from "aws-cdk-lib";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type { z } from "zod";
import { safeParse } from "zod/mini";

/**
 * A service's env schema as its env.ts declares it (`apiEnvSchema`, `workerEnvSchema`,
 * the Lambda's zod/mini `lambdaEnvSchema`): rules are checked with zod's functional
 * `safeParse`, which both zod builds share.
 */
export interface EnvSchema {
  shape: Record<string, z.core.$ZodType>;
}

/** The variables a deployed service gets, keyed by the names its env.ts parses. */
export interface ServiceEnv<K extends string> {
  /** Plain variables in the task definition. */
  environment: Partial<Record<K, string>>;
  /** Variables ECS injects from Secrets Manager when the task starts (never in the template). */
  secrets: Partial<Record<K, ecs.Secret>>;
  /**
   * Variables deliberately left to the service's own default on AWS, each with
   * the reason. Every name the schema parses is either set or listed here, so a
   * variable added to env.ts fails synth until someone decides its AWS value.
   */
  defaulted: Partial<Record<K, string>>;
  /**
   * Variables the runtime rather than the app reads (NODE_EXTRA_CA_CERTS for
   * Node itself): by definition not in the schema, and checked to stay out of it.
   */
  runtime?: Record<string, string>;
}

/** Keys of a schema's shape, as the type the env records use. */
export type EnvKey<S extends EnvSchema> = Extract<keyof S["shape"], string>;

/**
 * Fails synth unless `env` is exactly what `schema` parses: known names, none twice, every name set or
 * deliberately defaulted, literal values valid. Token values (ARNs) are left to the tests, which resolve them.
 */
export function assertServiceEnv<S extends EnvSchema>(service: string, schema: S, env: ServiceEnv<EnvKey<S>>): void {
  const known = new Set(Object.keys(schema.shape));
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const groups: Array<[string, Record<string, unknown>]> = [
    ["environment", env.environment],
    ["secrets", env.secrets],
    ["defaulted", env.defaulted],
  ];
  for (const [group, values] of groups) {
    for (const name of Object.keys(values)) {
      if (!known.has(name)) problems.push(`${name} (in ${group}) is not a variable ${service}'s env.ts parses`);
      const earlier = seen.get(name);
      if (earlier) problems.push(`${name} is given twice (${earlier} and ${group})`);
      seen.set(name, group);
    }
  }
  for (const name of Object.keys(env.runtime ?? {})) {
    if (known.has(name)) problems.push(`${name} (in runtime) is parsed by ${service}'s env.ts: set it as environment`);
  }
  for (const [name, rule] of Object.entries(schema.shape)) {
    const group = seen.get(name);
    if (group === undefined) {
      problems.push(`${name} is parsed by ${service}'s env.ts but neither set nor listed as defaulted`);
    } else if (group === "defaulted" && !safeParse(rule, undefined).success) {
      problems.push(`${name} has no default in ${service}'s env.ts, so it must be set`);
    }
  }
  for (const [name, value] of Object.entries(env.environment as Record<string, string | undefined>)) {
    const rule = schema.shape[name];
    if (rule === undefined || value === undefined || Token.isUnresolved(value)) continue;
    const parsed = safeParse(rule, value);
    if (!parsed.success) problems.push(`${name}=${JSON.stringify(value)}: ${parsed.error.issues[0]?.message}`);
  }
  if (problems.length > 0) {
    throw new Error(`the ${service} env does not match its env.ts:\n  ${problems.join("\n  ")}`);
  }
}

/** Drops the undefined entries a Partial record may hold (ECS wants plain string maps). */
export function definedEntries<V>(record: Partial<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value as V;
  return out;
}
