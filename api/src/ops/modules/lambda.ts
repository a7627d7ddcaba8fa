import {
  type CostInput,
  compareCosts,
  fargateCostFromTaskSeconds,
  lambdaCost,
  type OrderStore,
  parseOrThrow,
  roundUsd,
  STUDY_PRICING,
  STUDY_TASK_SIZE,
  taskSecondsFromChanges,
  ValidationError,
} from "@surge/core";
import type { BurstStats } from "@surge/loadgen";
import { Gauge } from "prom-client";
import { z } from "zod";
import { ACTIVITY_RECORD_KIND } from "../../autoscaling/activity-log.js";
import type { ScalingActivity } from "../../autoscaling/types.js";
import { COST_QUERY_KEYS } from "../../contract.js";
import { HttpError } from "../../http/server.js";
import type { LambdaInsights } from "../../lambda/insights.js";
import { PROCESSING_TARGETS, type ProcessingRouter } from "../../lambda/processing.js";
import { actorOf, type OpsModule } from "../context.js";
import { BURST_RECORD_KIND } from "./bursts.js";

interface LambdaModuleOptions {
  /** Where the Lambda figures come from; absent when no function is configured (then only workers process). */
  insights?: LambdaInsights | undefined;
  processing: ProcessingRouter;
  /** This deployment's settings: the cost model's defaults for the payment and the task. */
  deployment: {
    paymentDurationMs: number;
    paymentSlots: number;
    /** The Lambda function's memory, in MB. Default 512 (the study's). */
    lambdaMemoryMb?: number;
    /** The worker task's size. Default 0.25 vCPU / 0.5 GB (the study's). */
    taskSize?: { vcpu: number; memoryGb: number };
  };
  /** The fleet's desired count now: the count an observed window starts with when no activity says otherwise. */
  desiredTasks?: () => Promise<number>;
}

const SUMMARY_WINDOW_MAX_MS = 14 * 24 * 3600_000;
const STATE_WINDOW_MS = 15 * 60_000;

const bounded = (min: number, max: number) =>
  z
    .number(`must be a number in ${min}..${max}`)
    .min(min, `must be in ${min}..${max}`)
    .max(max, `must be in ${min}..${max}`);

const pricingSchema = z.strictObject({
  lambda: z
    .strictObject({
      requestUsdPerMillion: bounded(0, 1000).optional(),
      gbSecondUsd: bounded(0, 1).optional(),
      freeRequestsPerMonth: bounded(0, 1e12).optional(),
      freeGbSecondsPerMonth: bounded(0, 1e12).optional(),
    })
    .optional(),
  fargate: z
    .strictObject({ vcpuHourUsd: bounded(0, 100).optional(), gbHourUsd: bounded(0, 100).optional() })
    .optional(),
});

/** `POST /ops/cost`: the cost model's inputs, each bounded; prices default to the study's. */
const costInputSchema = z.strictObject({
  ordersPerMonth: bounded(0, 1e12).optional(),
  paymentDurationMs: bounded(0, 900_000).optional(),
  memoryMb: z
    .int("must be an integer in 128..10240")
    .min(128, "must be in 128..10240")
    .max(10_240, "must be in 128..10240")
    .optional(),
  lambdaOverheadMs: bounded(0, 900_000).optional(),
  freeTier: z.boolean().optional(),
  minTasks: bounded(0, 10_000).optional(),
  slotsPerTask: bounded(1, 10_000).optional(),
  targetUtilization: z.number().gt(0, "must be in (0, 1]").max(1, "must be in (0, 1]").optional(),
  taskSize: z.strictObject({ vcpu: bounded(0.25, 16), memoryGb: bounded(0.5, 120) }).optional(),
  hoursPerMonth: bounded(1, 744).optional(),
  pricing: pricingSchema.optional(),
});
type CostRequest = z.infer<typeof costInputSchema>;

/** `GET /ops/cost?…`: the same inputs as flat query parameters (taskVcpu, taskMemoryGb for the task). */
function costRequestFromQuery(query: Record<string, unknown>): CostRequest {
  const number = (name: string) => {
    const raw = query[name];
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  };
  const known = new Set<string>(COST_QUERY_KEYS);
  const unknown = Object.keys(query).filter((k) => !known.has(k));
  const body: Record<string, unknown> = {};
  for (const k of known) if (k !== "freeTier" && k !== "taskVcpu" && k !== "taskMemoryGb") body[k] = number(k);
  if (query.freeTier !== undefined)
    body.freeTier = query.freeTier === "false" ? false : query.freeTier === "true" ? true : query.freeTier;
  if (query.taskVcpu !== undefined || query.taskMemoryGb !== undefined) {
    body.taskSize = {
      vcpu: number("taskVcpu") ?? STUDY_TASK_SIZE.vcpu,
      memoryGb: number("taskMemoryGb") ?? STUDY_TASK_SIZE.memoryGb,
    };
  }
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  if (unknown.length > 0) {
    throw new ValidationError(`invalid cost query: unknown parameter(s): ${unknown.join(", ")}`, [
      { field: unknown[0] ?? "query", message: "unknown parameter" },
    ]);
  }
  return parseOrThrow(costInputSchema, body, "cost query");
}

/** Money rounded to micro-dollars for JSON (float noise off), with the cents a person reads beside it. */
function usd(value: number): number {
  return roundUsd(value, 6);
}

/**
 * Orders published to the function, from the order store: waiting (queued, or failed and waiting
 * for a retry: a throttled event is retried, not lost), being paid, and dead (the only lost ones).
 */
async function lambdaOrders(store: OrderStore) {
  const c = await store.countByStatus("lambda");
  return { waiting: c.queued + c.failed, processing: c.processing, paid: c.paid, dead: c.dead };
}

/** `/ops/lambda`, `/ops/processing` and `/ops/cost`: the function's figures, where orders go, what each platform costs. */
export function lambdaModule(options: LambdaModuleOptions): OpsModule {
  const { insights, processing, deployment } = options;
  const memoryMb = deployment.lambdaMemoryMb ?? 512;

  const costDefaults = (): Omit<CostInput, "ordersPerMonth"> => ({
    paymentDurationMs: deployment.paymentDurationMs,
    memoryMb,
    slotsPerTask: deployment.paymentSlots,
    taskSize: deployment.taskSize ?? STUDY_TASK_SIZE,
  });

  const compare = (request: CostRequest) => {
    const pricing = {
      lambda: { ...STUDY_PRICING.lambda, ...request.pricing?.lambda },
      fargate: { ...STUDY_PRICING.fargate, ...request.pricing?.fargate },
    };
    const { pricing: _given, ...rest } = request;
    let c: ReturnType<typeof compareCosts>;
    try {
      c = compareCosts({ ordersPerMonth: 1_000_000, ...costDefaults(), ...rest, pricing });
    } catch (error) {
      if (error instanceof RangeError) {
        const field = error.message.split(" ")[0] ?? "body";
        throw new ValidationError(`invalid cost input: ${error.message}`, [{ field, message: error.message }]);
      }
      throw error;
    }
    return {
      input: c.input,
      lambda: {
        ...c.lambda,
        requestsUsd: usd(c.lambda.requestsUsd),
        computeUsd: usd(c.lambda.computeUsd),
        totalUsd: usd(c.lambda.totalUsd),
      },
      fargate: {
        ...c.fargate,
        vcpuUsd: usd(c.fargate.vcpuUsd),
        memoryUsd: usd(c.fargate.memoryUsd),
        totalUsd: usd(c.fargate.totalUsd),
      },
      cheaper: c.cheaper,
      breakEvenOrders: c.breakEvenOrders === null ? null : Math.ceil(c.breakEvenOrders),
      freeTierOrders: Math.floor(c.freeTierOrders),
      fargateTaskHourUsd: usd(c.fargateTaskHour.totalUsd),
      display: {
        lambda: `$${roundUsd(c.lambda.totalUsd, 2).toFixed(2)}`,
        fargate: `$${roundUsd(c.fargate.totalUsd, 2).toFixed(2)}`,
      },
    };
  };

  const summaryWindow = (query: Record<string, unknown>) => {
    const parsed = parseOrThrow(
      z.strictObject({
        sinceMs: z.coerce.number().int().min(0).optional(),
        untilMs: z.coerce.number().int().min(0).optional(),
        windowMinutes: z.coerce.number().int("must be an integer in 1..20160").min(1).max(20_160).optional(),
        binSeconds: z.coerce.number().int("must be an integer in 60..86400").min(60).max(86_400).optional(),
        reports: z.coerce.number().int("must be an integer in 0..200").min(0).max(200).optional(),
      }),
      query,
      "Lambda query",
    );
    const untilMs = parsed.untilMs ?? Date.now();
    const sinceMs = parsed.sinceMs ?? untilMs - (parsed.windowMinutes ?? 60) * 60_000;
    if (sinceMs >= untilMs || untilMs - sinceMs > SUMMARY_WINDOW_MAX_MS) {
      throw new ValidationError("invalid Lambda query: sinceMs must be before untilMs, at most 14 days apart", [
        { field: "sinceMs", message: "must be before untilMs, at most 14 days apart" },
      ]);
    }
    return { sinceMs, untilMs, binSeconds: parsed.binSeconds ?? 300, reports: parsed.reports ?? 20 };
  };

  const requireInsights = (): LambdaInsights => {
    if (!insights) {
      throw new HttpError(
        404,
        "no Lambda function is configured (LAMBDA_CONTROL_URL locally, LAMBDA_FUNCTION_NAME on AWS)",
      );
    }
    return insights;
  };

  return {
    name: "lambda",
    routes(router, ctx) {
      new Gauge({
        name: "surge_processing_target",
        help: "Where new orders are processed: 1 on the current target (workers, lambda, both).",
        labelNames: ["target"] as const,
        registers: [ctx.metrics.registry],
        collect() {
          for (const target of PROCESSING_TARGETS) this.labels(target).set(processing.target === target ? 1 : 0);
        },
      });

      ctx.state.register("processing", () => ({ target: processing.target, lambdaConfigured: insights !== undefined }));
      if (insights) {
        ctx.state.register("lambda", async () => {
          const now = Date.now();
          const [live, recent, orders] = await Promise.all([
            insights.live(),
            insights.summary({ sinceMs: now - STATE_WINDOW_MS, untilMs: now, binSeconds: 60 }),
            lambdaOrders(ctx.store),
          ]);
          const { bins: _bins, ...lastFifteenMinutes } = recent;
          return { ...live, lastFifteenMinutes, orders };
        });
      }

      router.get("/lambda", async (req, res) => {
        const source = requireInsights();
        const window = summaryWindow(req.query as Record<string, unknown>);
        const [live, summary, recentReports, orders] = await Promise.all([
          source.live(),
          source.summary(window),
          window.reports > 0 ? source.recentReports(window.reports) : Promise.resolve([]),
          lambdaOrders(ctx.store),
        ]);
        res.json({
          source: source.source,
          functionName: source.functionName,
          processing: processing.target,
          live,
          summary,
          recentReports,
          orders,
        });
      });

      router.get("/processing", (_req, res) => {
        res.json({ target: processing.target, lambdaConfigured: insights !== undefined });
      });

      router.put("/processing", async (req, res) => {
        const body = parseOrThrow(
          z.strictObject({ target: z.enum(PROCESSING_TARGETS, `must be one of ${PROCESSING_TARGETS.join(", ")}`) }),
          req.body ?? {},
          "processing target",
        );
        if (body.target !== "workers" && !insights) {
          throw new HttpError(409, `cannot route orders to Lambda: no Lambda function is configured`);
        }
        const before = processing.target;
        await processing.set(body.target);
        await ctx.audit.record(actorOf(res), "processing.target", {
          before: { target: before },
          after: { target: body.target },
        });
        ctx.log.info("processing target changed", { actor: actorOf(res).label, before, after: body.target });
        res.json({ target: body.target, before });
      });

      router.get("/cost", (req, res) => {
        res.json(compare(costRequestFromQuery(req.query as Record<string, unknown>)));
      });

      router.post("/cost", (req, res) => {
        res.json(compare(parseOrThrow(costInputSchema, req.body ?? {}, "cost input")));
      });

      router.get("/cost/observed", async (req, res) => {
        res.json(await observedCost(ctx.store, req.query as Record<string, unknown>));
      });
    },
  };

  /**
   * Prices what ran in a window or a burst: task-seconds from the activity log, billed GB-seconds
   * from REPORT lines, both without the free tier (a burst's marginal cost).
   */
  async function observedCost(store: OrderStore, query: Record<string, unknown>) {
    const q = parseOrThrow(
      z.strictObject({
        burstId: z.string().min(1).max(64).optional(),
        sinceMs: z.coerce.number().int().min(0).optional(),
        untilMs: z.coerce.number().int().min(0).optional(),
      }),
      query,
      "observed-cost query",
    );
    let burst: BurstStats | undefined;
    if (q.burstId) {
      burst = (await store.getRecord<BurstStats>(BURST_RECORD_KIND, q.burstId))?.data;
      if (!burst) throw new HttpError(404, `no burst ${q.burstId}`);
    }
    const untilMs = q.untilMs ?? Date.now();
    const sinceMs = q.sinceMs ?? (burst ? Date.parse(burst.startedAt) : untilMs - 3600_000);
    if (!(sinceMs < untilMs) || untilMs - sinceMs > SUMMARY_WINDOW_MAX_MS) {
      throw new ValidationError("invalid observed-cost query: sinceMs must be before untilMs, at most 14 days apart", [
        { field: "sinceMs", message: "must be before untilMs, at most 14 days apart" },
      ]);
    }

    // Newest first, up to the window's end: those at or before its start only say what it started with.
    const records = await store.listRecords<ScalingActivity>(ACTIVITY_RECORD_KIND, {
      beforeMs: untilMs,
      limit: 10_000,
    });
    const changes = records
      .filter((r) => r.data.status === "successful" && r.data.to !== null)
      .map((r) => ({ atMs: r.atMs, tasks: r.data.to as number, from: r.data.from }))
      .reverse();
    const before = changes.filter((c) => c.atMs <= sinceMs).at(-1);
    const firstInside = changes.find((c) => c.atMs > sinceMs);
    const initialTasks =
      before?.tasks ?? firstInside?.from ?? (options.desiredTasks ? await options.desiredTasks().catch(() => 0) : 0);
    const inside = changes.filter((c) => c.atMs > sinceMs);
    const taskSeconds = taskSecondsFromChanges(inside, { fromMs: sinceMs, toMs: untilMs }, initialTasks);
    const taskSize = deployment.taskSize ?? STUDY_TASK_SIZE;
    const fargate = fargateCostFromTaskSeconds(taskSeconds, taskSize, STUDY_PRICING.fargate);

    let lambda:
      | {
          invocations: number;
          coldStarts: number;
          billedGbSeconds: number;
          requestsUsd: number;
          computeUsd: number;
          totalUsd: number;
        }
      | { error: string }
      | undefined;
    let lambdaErrors: number | undefined;
    if (insights) {
      try {
        const s = await insights.summary({ sinceMs, untilMs });
        lambdaErrors = s.errors;
        const cost = lambdaCost({ invocations: s.invocations, gbSeconds: s.billedGbSeconds, freeTier: false });
        lambda = {
          invocations: s.invocations,
          coldStarts: s.coldStarts,
          billedGbSeconds: s.billedGbSeconds,
          requestsUsd: usd(cost.requestsUsd),
          computeUsd: usd(cost.computeUsd),
          totalUsd: usd(cost.totalUsd),
        };
      } catch (error) {
        lambda = { error: (error as Error).message };
      }
    }

    // A burst's accepted orders: all of them priced on Lambda; the fleet's cost per order only over
    // the orders the workers paid (the window's successful invocations were Lambda's), none when
    // Lambda paid them all: an idle fleet's cost is not a price per order.
    const orders = burst ? Math.max(0, burst.requests - burst.failures) : undefined;
    const paidByLambda =
      orders !== undefined && lambda && !("error" in lambda)
        ? Math.min(orders, Math.max(0, lambda.invocations - (lambdaErrors ?? 0)))
        : 0;
    const paidByWorkers = orders !== undefined ? orders - paidByLambda : 0;
    const perOrder = orders
      ? {
          orders,
          paidByWorkers,
          paidByLambda,
          onLambdaUsd: usd(
            lambdaCost({
              invocations: orders,
              billedDurationMs: deployment.paymentDurationMs,
              memoryMb,
              freeTier: false,
            }).totalUsd,
          ),
          fargateObservedPerOrderUsd: paidByWorkers > 0 ? usd(fargate.totalUsd / paidByWorkers) : null,
        }
      : undefined;

    return {
      window: { sinceMs, untilMs, ...(burst && { burstId: burst.id }) },
      fargate: {
        taskSeconds,
        tasksAtStart: initialTasks,
        scalingChanges: inside.length,
        taskSize,
        taskHours: fargate.taskHours,
        vcpuUsd: usd(fargate.vcpuUsd),
        memoryUsd: usd(fargate.memoryUsd),
        totalUsd: usd(fargate.totalUsd),
      },
      ...(lambda && { lambda }),
      ...(perOrder && { burstOrders: perOrder }),
      pricing: STUDY_PRICING,
      freeTier: false,
    };
  }
}
