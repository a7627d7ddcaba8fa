import { z } from "zod";

// Everything one stage may change: defaults here ← cdk.json `stages.<stage>` ← `-c key=value`
// (strings there, hence the coercions). A bad value stops synth naming the key.
const int = (defaultValue: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(defaultValue);
const num = (defaultValue: number, min: number, max: number) =>
  z.coerce.number().min(min).max(max).default(defaultValue);
/** `-c flag=false` arrives as the string "false", which z.coerce.boolean() would call true. */
const bool = (defaultValue: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")])
    .default(defaultValue)
    .pipe(z.boolean());

/** Fargate's valid CPU units → memory sizes (MiB). */
const FARGATE_TASK_SIZES: Readonly<Record<number, { minMiB: number; maxMiB: number; stepMiB: number }>> = {
  256: { minMiB: 512, maxMiB: 2048, stepMiB: 512 },
  512: { minMiB: 1024, maxMiB: 4096, stepMiB: 1024 },
  1024: { minMiB: 2048, maxMiB: 8192, stepMiB: 1024 },
  2048: { minMiB: 4096, maxMiB: 16_384, stepMiB: 1024 },
  4096: { minMiB: 8192, maxMiB: 30_720, stepMiB: 1024 },
};

const stageConfigSchema = z
  .object({
    /** Names every resource (`surge-<stage>-…`) and picks the `stages.<stage>` overrides. */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,11}$/, "must be 2–12 characters of a-z, 0-9 and -, starting with a letter"),

    // The study's physics: every figure the sizing derives from.
    /** PAYMENT_DURATION_MS: one payment, in ms (the study: 3 s). */
    paymentDurationMs: int(3000, 1, 600_000),
    /** PAYMENT_SLOTS: payments one process runs at once (the study: 5). */
    paymentSlots: int(5, 1, 1000),
    /** PAYMENT_FAILURE_RATE: share of payments the simulated processor declines. */
    paymentFailureRate: num(0, 0, 1),

    // Worker fleet (ECS Fargate) and its autoscaling.
    /** WORKER_CONCURRENCY: orders one task works on at once. */
    workerConcurrency: int(5, 1, 200),
    /** Fewest worker tasks autoscaling keeps; at least 1 so backlog ÷ running tasks is defined. */
    workerMinTasks: int(1, 1, 1000),
    /** Most worker tasks (autoscaling and manual scaling alike; the API's MAX_WORKER_TASKS). */
    workerMaxTasks: int(50, 1, 1000),
    /** Oldest-order age the fleet is sized for, in s: target backlog per task = this ÷ time per order. */
    acceptableLatencySeconds: int(30, 1, 3600),
    /** Seconds after a scale-out before the next one. */
    scaleOutCooldownSeconds: int(60, 0, 3600),
    /** Seconds after a scale-in before the next one: longer, so a lull does not shed tasks a burst needs. */
    scaleInCooldownSeconds: int(300, 0, 3600),
    /** SHUTDOWN_DEADLINE_MS: how long in-flight payments get after SIGTERM. */
    shutdownDeadlineMs: int(25_000, 0, 110_000),
    /** Fargate CPU units per task (the study: 256 = 0.25 vCPU). */
    taskCpu: z.coerce
      .number()
      .int()
      .refine((v) => v in FARGATE_TASK_SIZES, `must be one of ${Object.keys(FARGATE_TASK_SIZES).join(", ")}`)
      .default(256),
    /** Fargate memory per task, in MiB (the study: 512). */
    taskMemoryMiB: int(512, 512, 30_720),
    /** CPU architecture of the images and tasks; arm64 (Graviton) is ~20% cheaper but needs arm64 builds. */
    cpuArchitecture: z.enum(["x86_64", "arm64"]).default("x86_64"),

    // The order API (and console) behind the load balancer.
    /**
     * API tasks. One by default: the ops plane keeps bursts and live streams in
     * process memory, so a second task would answer `GET /ops/bursts/:id` without them.
     */
    apiDesiredCount: int(1, 1, 20),
    /** Console tasks, when the console is deployed. */
    webDesiredCount: int(1, 1, 20),
    /** Deploy the console: "auto" = when `web/package.json` exists. */
    web: z.enum(["auto", "on", "off"]).default("auto"),
    /** ACM certificate for HTTPS on the load balancer; without it the listener is plain HTTP (dev only). */
    certificateArn: z.string().startsWith("arn:aws").optional(),
    /** Who may reach the load balancer. */
    ingressCidr: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR")
      .default("0.0.0.0/0"),

    // SQS and SNS.
    /** MAX_RECEIVE_COUNT and the queue's redrive maxReceiveCount: receives before an order is dead-lettered. */
    maxReceiveCount: int(5, 1, 1000),
    /** How long an unprocessed order stays on the queue, in days (the study: 4). */
    queueRetentionDays: int(4, 1, 14),

    // The Lambda order processor.
    /** Reserved concurrency: the most environments (and so payments) Lambda runs at once. */
    lambdaReservedConcurrency: int(5, 1, 1000),
    /** Lambda memory in MiB (the study: 512). */
    lambdaMemoryMiB: int(512, 128, 10_240),

    // Alarms.
    /** Age of the oldest queued order that pages, in s (Grafana's queue-age alert uses the same figure). */
    oldestMessageAlarmSeconds: int(30, 1, 1_209_600),
    /** Dead letters that page: 1 = any. */
    dlqDepthAlarmMessages: int(1, 1, 100_000),
    /** Email that alarm notifications go to (confirm the subscription mail once). */
    alarmEmail: z.email().optional(),

    // Network, database and housekeeping.
    vpcCidr: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, "must be an IPv4 CIDR of /16 to /24")
      .default("10.40.0.0/16"),
    /** NAT gateways: tasks reach SQS, SNS, ECR and CloudWatch through them. 1 is cheap, 2 survives an AZ. */
    natGateways: int(1, 1, 2),
    dbInstanceClass: z
      .string()
      .regex(/^[a-z0-9]+\.[a-z0-9]+$/, "must look like t4g.micro")
      .default("t4g.micro"),
    dbAllocatedStorageGiB: int(20, 20, 65_536),
    dbMultiAz: bool(false),
    dbBackupRetentionDays: int(7, 1, 35),
    /** CloudWatch Logs retention for every log group, in days. */
    logRetentionDays: z.coerce
      .number()
      .int()
      .refine(
        (v) => LOG_RETENTION_DAYS.includes(v),
        "must be a retention CloudWatch Logs supports (1, 3, 5, 7, 14, 30…)",
      )
      .default(30),
    /** "destroy": `cdk destroy` removes the database too (dev). "retain": snapshot and keep (prod). */
    removalPolicy: z.enum(["destroy", "retain"]).default("destroy"),
    /** LOG_LEVEL of every service. */
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  })
  // A misspelt key in `stages.<stage>` must fail, not be ignored.
  .strict()
  .superRefine((c, ctx) => {
    if (c.workerMinTasks > c.workerMaxTasks) {
      ctx.addIssue({
        code: "custom",
        path: ["workerMinTasks"],
        message: `must not exceed workerMaxTasks (${c.workerMaxTasks})`,
      });
    }
    const size = FARGATE_TASK_SIZES[c.taskCpu];
    if (
      size &&
      (c.taskMemoryMiB < size.minMiB || c.taskMemoryMiB > size.maxMiB || c.taskMemoryMiB % size.stepMiB !== 0)
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["taskMemoryMiB"],
        message: `with taskCpu ${c.taskCpu} must be ${size.minMiB}–${size.maxMiB} in steps of ${size.stepMiB} (Fargate task sizes)`,
      });
    }
    if (c.shutdownDeadlineMs < c.paymentDurationMs) {
      ctx.addIssue({
        code: "custom",
        path: ["shutdownDeadlineMs"],
        message: `must be at least paymentDurationMs (${c.paymentDurationMs}): a shorter deadline cuts every in-flight payment at each scale-in`,
      });
    }
  });

export type StageConfig = z.infer<typeof stageConfigSchema>;

/** Retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS: ReadonlyArray<number> = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** The context reader a CDK app offers (`app.node.tryGetContext`). */
type ContextReader = (key: string) => unknown;

/**
 * Resolves one stage's configuration: defaults ← `stages.<stage>` ← individual
 * context keys. Throws one error naming every bad key.
 */
export function loadStageConfig(readContext: ContextReader): StageConfig {
  const stage = String(readContext("stage") ?? "dev");
  const stages = readContext("stages");
  const perStage =
    stages && typeof stages === "object" && stage in stages ? (stages as Record<string, unknown>)[stage] : undefined;
  if (perStage !== undefined && (typeof perStage !== "object" || perStage === null)) {
    throw new Error(`invalid CDK context: stages.${stage} must be an object`);
  }
  const merged: Record<string, unknown> = { ...(perStage as Record<string, unknown> | undefined), stage };
  for (const key of Object.keys(stageConfigSchema.shape)) {
    const value = readContext(key);
    if (value !== undefined && key !== "stage") merged[key] = value;
  }
  const result = stageConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "context"}: ${i.message}`);
  throw new Error(`invalid CDK context for stage "${stage}":\n  ${problems.join("\n  ")}`);
}
