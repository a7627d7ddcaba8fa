import { z } from "zod";

/**
 * The console server's configuration, parsed once. Nothing else reads
 * `process.env`. A bad value stops the server with a message naming the
 * variable, like every other Surge deployable.
 */
const url = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^https?:\/\/[^\s]+$/.test(v), `${name} must be an http(s) URL`)
    .transform((v) => v.replace(/\/+$/, ""));

const optionalUrl = (name: string) =>
  z
    .union([z.literal("").transform(() => undefined), url(name)])
    .optional()
    .transform((v) => v || undefined);

const schema = z.object({
  /** Where the Surge API answers, seen from the console server (never from the browser). Default the local stack's. */
  SURGE_API_URL: url("SURGE_API_URL").default("http://127.0.0.1:8080"),
  /**
   * A token the console server uses for itself: to record the live timeline
   * from the moment it starts, so an operator who opens the console mid-incident
   * sees the last hour at once. Optional: without it, recording starts with the
   * first signed-in operator's stream. Never sent to a browser.
   */
  SURGE_OPS_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v && v.length > 0 ? v : undefined)),
  /**
   * Key material for the session cookie (AES-256-GCM, key = SHA-256 of this),
   * at least 32 characters. Unset: a random key per process, so a console
   * restart signs everyone out.
   */
  SESSION_SECRET: z
    .string()
    .optional()
    .transform((v) => (v && v.length > 0 ? v : undefined))
    .refine((v) => v === undefined || v.length >= 32, "SESSION_SECRET must be at least 32 characters"),
  /** How long a sign-in lasts, in hours. Default 12 (a long on-call shift). */
  SESSION_TTL_HOURS: z.coerce.number().min(0.01).max(168).default(12),
  /**
   * Mark cookies `Secure`. Default: when the console's own origin is https.
   * `true` behind a TLS-terminating load balancer that talks plain HTTP to the console.
   */
  COOKIE_SECURE: z.enum(["true", "false", "auto"]).default("auto"),
  /**
   * The console's public origin (scheme://host[:port]) for the cross-site check on
   * mutations. Default: the request's own Host, which is right unless a proxy rewrites it.
   */
  CONSOLE_ORIGIN: optionalUrl("CONSOLE_ORIGIN"),
  /** Grafana's base URL: pages link to the matching dashboard when set. */
  GRAFANA_URL: optionalUrl("GRAFANA_URL"),
  /**
   * Prometheus's URL as a browser reaches it: alerts' "source ↗" links open the rule's graph there
   * (Grafana's alerts use GRAFANA_URL). Unset: no source link, rather than Prometheus's own host name.
   */
  PROMETHEUS_URL: optionalUrl("PROMETHEUS_URL"),
  /** Seconds of 1 s timeline points the console server keeps. Default 3600 (an hour). */
  TIMELINE_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  /** Per-request timeout towards the API, in ms. Default 10000. */
  API_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
});

type ConsoleEnv = z.infer<typeof schema>;

export function parseConsoleEnv(env: NodeJS.ProcessEnv): ConsoleEnv {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${String(i.path[0] ?? "env")}: ${i.message}`);
  throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
}

let parsed: ConsoleEnv | undefined;

/** The parsed configuration (parsed on first use, then kept). */
export function env(): ConsoleEnv {
  parsed ??= parseConsoleEnv(process.env);
  return parsed;
}

/** The schema itself, for the CDK app: the env the deployed console gets is checked against it. */
export { schema as webEnvSchema };
