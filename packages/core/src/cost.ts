/**
 * Lambda and Fargate bills at the study's prices (docs/lambda.md): Lambda's follows the order
 * volume, Fargate's the fleet over time. USD stays unrounded until `roundUsd` formats it.
 */

interface LambdaPricing {
  /** USD per million requests. Study: 0.20. */
  requestUsdPerMillion: number;
  /** USD per GB-second of billed duration. Study: 0.0000166667. */
  gbSecondUsd: number;
  /** Requests per month the free tier covers. Study: 1,000,000. */
  freeRequestsPerMonth: number;
  /** GB-seconds per month the free tier covers. Study: 400,000. */
  freeGbSecondsPerMonth: number;
}

interface FargatePricing {
  /** USD per vCPU per hour. Study: 0.04656. */
  vcpuHourUsd: number;
  /** USD per GB of memory per hour. Study: 0.00511. */
  gbHourUsd: number;
}

/** One Fargate task's size. Study: 256 CPU units (0.25 vCPU) and 512 MB. */
interface FargateTaskSize {
  vcpu: number;
  memoryGb: number;
}

interface Pricing {
  lambda: LambdaPricing;
  fargate: FargatePricing;
}

/** The study's prices (us-west-2), verbatim. */
export const STUDY_PRICING: Pricing = {
  lambda: {
    requestUsdPerMillion: 0.2,
    gbSecondUsd: 0.0000166667,
    freeRequestsPerMonth: 1_000_000,
    freeGbSecondsPerMonth: 400_000,
  },
  fargate: { vcpuHourUsd: 0.04656, gbHourUsd: 0.00511 },
};

/** The study's task size: 0.25 vCPU, 0.5 GB. */
export const STUDY_TASK_SIZE: FargateTaskSize = { vcpu: 0.25, memoryGb: 0.5 };

/** The study's month: 30 days ("Daily: $0.68 … Monthly: $0.68 × 30"). */
const STUDY_HOURS_PER_MONTH = 720;

/** Lambda bills memory in GB of 1024 MB: 512 MB is 0.5 GB. */
export function memoryGb(memoryMb: number): number {
  return memoryMb / 1024;
}

/**
 * Rounds half-up to `decimals` places on the number's shortest decimal form
 * (the digits it prints as), so binary representation error never flips a
 * rounding: roundUsd(0.002555, 5) is 0.00256, roundUsd(0.025, 2) is 0.03.
 */
export function roundUsd(usd: number, decimals = 2): number {
  if (!Number.isFinite(usd)) return usd;
  const sign = usd < 0 ? -1 : 1;
  const [mantissa, exponent = "0"] = String(Math.abs(usd)).split("e");
  const shifted = Math.round(Number(`${mantissa}e${Number(exponent) + decimals}`));
  return sign * Number(`${shifted}e-${decimals}`);
}

interface LambdaCost {
  invocations: number;
  gbSeconds: number;
  /** Requests beyond the free tier. */
  billableRequests: number;
  /** GB-seconds beyond the free tier. */
  billableGbSeconds: number;
  requestsUsd: number;
  computeUsd: number;
  totalUsd: number;
}

/**
 * Prices `invocations` of `billedDurationMs` each at `memoryMb`. With
 * `freeTier` (default true) the month's free requests and GB-seconds come off
 * first. Pass `gbSeconds` instead of a duration to price observed REPORT lines
 * (each invocation billed on its own duration).
 */
export function lambdaCost(input: {
  invocations: number;
  billedDurationMs?: number;
  memoryMb?: number;
  gbSeconds?: number;
  freeTier?: boolean;
  pricing?: LambdaPricing;
}): LambdaCost {
  const pricing = input.pricing ?? STUDY_PRICING.lambda;
  const freeTier = input.freeTier ?? true;
  const gbSeconds =
    input.gbSeconds ?? input.invocations * ((input.billedDurationMs ?? 0) / 1000) * memoryGb(input.memoryMb ?? 0);
  const billableRequests = Math.max(0, input.invocations - (freeTier ? pricing.freeRequestsPerMonth : 0));
  const billableGbSeconds = Math.max(0, gbSeconds - (freeTier ? pricing.freeGbSecondsPerMonth : 0));
  const requestsUsd = (billableRequests / 1_000_000) * pricing.requestUsdPerMillion;
  const computeUsd = billableGbSeconds * pricing.gbSecondUsd;
  return {
    invocations: input.invocations,
    gbSeconds,
    billableRequests,
    billableGbSeconds,
    requestsUsd,
    computeUsd,
    totalUsd: requestsUsd + computeUsd,
  };
}

interface ProvisionedConcurrencyPricing {
  /** USD per GB-second of provisioned concurrency configured, used or not. */
  provisionedGbSecondUsd: number;
  /** USD per GB-second of duration of invocations that run on a provisioned environment. */
  durationGbSecondUsd: number;
}

/**
 * Provisioned concurrency's prices, x86, from AWS Lambda's pricing page
 * (https://aws.amazon.com/lambda/pricing/), the same in US East (N. Virginia) and US West
 * (Oregon), the study's region: $0.0000041667 per GB-s configured and $0.0000097222 per GB-s of
 * duration on it (instead of on-demand's $0.0000166667). Requests cost as on demand; the free tier
 * does not cover provisioned concurrency.
 */
export const PROVISIONED_CONCURRENCY_PRICING: ProvisionedConcurrencyPricing = {
  provisionedGbSecondUsd: 0.0000041667,
  durationGbSecondUsd: 0.0000097222,
};

interface ProvisionedConcurrencyCost {
  /** Concurrency × memory × the time it was configured. */
  provisionedGbSeconds: number;
  provisionedUsd: number;
  /** Duration of the invocations served by provisioned environments. */
  durationGbSeconds: number;
  durationUsd: number;
  /** Their requests, at the on-demand request price. */
  requestsUsd: number;
  /** Invocations beyond the provisioned environments ran on demand: priced by `lambdaCost`. */
  spillover: LambdaCost;
  totalUsd: number;
}

/**
 * What provisioned concurrency costs over a period: `provisionedConcurrency` environments of
 * `memoryMb` kept for `seconds`, `invocations` served by them at `billedDurationMs` each (no init
 * is billed on them: it happened at allocation), and `spilloverInvocations` on on-demand
 * environments (their billed duration, init included, is `spilloverBilledDurationMs` each).
 * No free tier: it is a sale window's price, not a month's.
 */
export function provisionedConcurrencyCost(input: {
  provisionedConcurrency: number;
  memoryMb: number;
  seconds: number;
  invocations: number;
  billedDurationMs: number;
  spilloverInvocations?: number;
  spilloverBilledDurationMs?: number;
  pricing?: ProvisionedConcurrencyPricing;
  onDemandPricing?: LambdaPricing;
}): ProvisionedConcurrencyCost {
  const pricing = input.pricing ?? PROVISIONED_CONCURRENCY_PRICING;
  const onDemand = input.onDemandPricing ?? STUDY_PRICING.lambda;
  const check = (name: string, value: number) => {
    if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a number ≥ 0, got ${value}`);
  };
  check("provisionedConcurrency", input.provisionedConcurrency);
  check("memoryMb", input.memoryMb);
  check("seconds", input.seconds);
  check("invocations", input.invocations);
  check("billedDurationMs", input.billedDurationMs);
  const gb = memoryGb(input.memoryMb);
  const provisionedGbSeconds = input.provisionedConcurrency * gb * input.seconds;
  const durationGbSeconds = input.invocations * (input.billedDurationMs / 1000) * gb;
  const provisionedUsd = provisionedGbSeconds * pricing.provisionedGbSecondUsd;
  const durationUsd = durationGbSeconds * pricing.durationGbSecondUsd;
  const requestsUsd = (input.invocations / 1_000_000) * onDemand.requestUsdPerMillion;
  const spillover = lambdaCost({
    invocations: input.spilloverInvocations ?? 0,
    billedDurationMs: input.spilloverBilledDurationMs ?? input.billedDurationMs,
    memoryMb: input.memoryMb,
    freeTier: false,
    pricing: onDemand,
  });
  return {
    provisionedGbSeconds,
    provisionedUsd,
    durationGbSeconds,
    durationUsd,
    requestsUsd,
    spillover,
    totalUsd: provisionedUsd + durationUsd + requestsUsd + spillover.totalUsd,
  };
}

/** GB-seconds of a set of REPORT lines: each invocation's billed duration times its memory size. */
export function billedGbSeconds(reports: ReadonlyArray<{ billedDurationMs: number; memorySizeMb: number }>): number {
  let total = 0;
  for (const r of reports) total += (r.billedDurationMs / 1000) * memoryGb(r.memorySizeMb);
  return total;
}

/** What one task costs per hour: vCPU-hours plus GB-hours. Study: $0.01164 + $0.00256 = $0.0142. */
export function fargateTaskHourUsd(
  size: FargateTaskSize = STUDY_TASK_SIZE,
  pricing: FargatePricing = STUDY_PRICING.fargate,
): { vcpuUsd: number; memoryUsd: number; totalUsd: number } {
  const vcpuUsd = size.vcpu * pricing.vcpuHourUsd;
  const memoryUsd = size.memoryGb * pricing.gbHourUsd;
  return { vcpuUsd, memoryUsd, totalUsd: vcpuUsd + memoryUsd };
}

interface FargateCost {
  taskHours: number;
  vcpuHours: number;
  gbHours: number;
  vcpuUsd: number;
  memoryUsd: number;
  totalUsd: number;
}

/** Prices task-seconds of a fleet of one task size (Fargate bills per second). */
export function fargateCostFromTaskSeconds(
  taskSeconds: number,
  size: FargateTaskSize = STUDY_TASK_SIZE,
  pricing: FargatePricing = STUDY_PRICING.fargate,
): FargateCost {
  const taskHours = taskSeconds / 3600;
  const vcpuHours = taskHours * size.vcpu;
  const gbHours = taskHours * size.memoryGb;
  const vcpuUsd = vcpuHours * pricing.vcpuHourUsd;
  const memoryUsd = gbHours * pricing.gbHourUsd;
  return { taskHours, vcpuHours, gbHours, vcpuUsd, memoryUsd, totalUsd: vcpuUsd + memoryUsd };
}

/** Prices a schedule of `tasks` running for `hours`, e.g. the study's "2 tasks for 20 days, 25 for 10". */
export function fargateCostFromSchedule(
  schedule: ReadonlyArray<{ tasks: number; hours: number }>,
  size: FargateTaskSize = STUDY_TASK_SIZE,
  pricing: FargatePricing = STUDY_PRICING.fargate,
): FargateCost {
  const taskSeconds = schedule.reduce((sum, s) => sum + s.tasks * s.hours * 3600, 0);
  return fargateCostFromTaskSeconds(taskSeconds, size, pricing);
}

/** A change in the number of running tasks at a moment (a scaling activity). */
interface TaskCountChange {
  atMs: number;
  tasks: number;
}

/**
 * Task-seconds in [fromMs, toMs) of a fleet that had `initialTasks` at `fromMs`
 * and changed to each change's `tasks` at its `atMs`: the area under the
 * tasks-over-time step function. Changes outside the window only set the count
 * it starts with.
 */
export function taskSecondsFromChanges(
  changes: ReadonlyArray<TaskCountChange>,
  window: { fromMs: number; toMs: number },
  initialTasks: number,
): number {
  if (window.toMs <= window.fromMs) return 0;
  const sorted = [...changes].sort((a, b) => a.atMs - b.atMs);
  let tasks = initialTasks;
  for (const c of sorted) if (c.atMs <= window.fromMs) tasks = c.tasks;
  let at = window.fromMs;
  let total = 0;
  for (const c of sorted) {
    if (c.atMs <= window.fromMs) continue;
    if (c.atMs >= window.toMs) break;
    total += tasks * (c.atMs - at);
    tasks = c.tasks;
    at = c.atMs;
  }
  total += tasks * (window.toMs - at);
  return total / 1000;
}

export interface CostInput {
  /** Orders per month. */
  ordersPerMonth: number;
  /** One payment's duration, in ms. Study: 3000. */
  paymentDurationMs?: number;
  /** Lambda memory size, in MB. Study: 512. */
  memoryMb?: number;
  /**
   * Milliseconds billed per invocation on top of the payment (handler work,
   * init on cold starts averaged in). Default 0: the study prices exactly 3 s.
   */
  lambdaOverheadMs?: number;
  /** Take the Lambda free tier off. Default true. */
  freeTier?: boolean;
  /** Tasks the Fargate service always runs (its minimum capacity). Study: 2. */
  minTasks?: number;
  /** Payments one task runs at once (PAYMENT_SLOTS). Study: 5. */
  slotsPerTask?: number;
  /**
   * Share of a task's payment slots kept busy once the fleet scales past its
   * minimum, in (0, 1]. Default 1: extra tasks run only for the work there is.
   */
  targetUtilization?: number;
  taskSize?: FargateTaskSize;
  /** Hours in the month. Study: 720 (30 days). */
  hoursPerMonth?: number;
  pricing?: Pricing;
}

type ResolvedCostInput = Required<CostInput>;

function resolveCostInput(input: CostInput): ResolvedCostInput {
  const resolved: ResolvedCostInput = {
    ordersPerMonth: input.ordersPerMonth,
    paymentDurationMs: input.paymentDurationMs ?? 3000,
    memoryMb: input.memoryMb ?? 512,
    lambdaOverheadMs: input.lambdaOverheadMs ?? 0,
    freeTier: input.freeTier ?? true,
    minTasks: input.minTasks ?? 2,
    slotsPerTask: input.slotsPerTask ?? 5,
    targetUtilization: input.targetUtilization ?? 1,
    taskSize: input.taskSize ?? STUDY_TASK_SIZE,
    hoursPerMonth: input.hoursPerMonth ?? STUDY_HOURS_PER_MONTH,
    pricing: input.pricing ?? STUDY_PRICING,
  };
  const bad = (field: string, bound: string) => new RangeError(`${field} must be ${bound}`);
  if (!(resolved.ordersPerMonth >= 0)) throw bad("ordersPerMonth", "≥ 0");
  if (!(resolved.paymentDurationMs >= 0)) throw bad("paymentDurationMs", "≥ 0");
  if (!(resolved.memoryMb >= 128 && resolved.memoryMb <= 10_240)) throw bad("memoryMb", "in 128..10240");
  if (!(resolved.lambdaOverheadMs >= 0)) throw bad("lambdaOverheadMs", "≥ 0");
  if (!(resolved.minTasks >= 0)) throw bad("minTasks", "≥ 0");
  if (!(resolved.slotsPerTask >= 1)) throw bad("slotsPerTask", "≥ 1");
  if (!(resolved.targetUtilization > 0 && resolved.targetUtilization <= 1)) throw bad("targetUtilization", "in (0, 1]");
  if (!(resolved.hoursPerMonth > 0)) throw bad("hoursPerMonth", "> 0");
  return resolved;
}

/** Lambda's monthly bill for a volume: one invocation per order (SNS delivers one order per event). */
export function lambdaMonthlyCost(input: CostInput): LambdaCost & { billedDurationMs: number } {
  const r = resolveCostInput(input);
  const billedDurationMs = Math.ceil(r.paymentDurationMs + r.lambdaOverheadMs);
  return {
    ...lambdaCost({
      invocations: r.ordersPerMonth,
      billedDurationMs,
      memoryMb: r.memoryMb,
      freeTier: r.freeTier,
      pricing: r.pricing.lambda,
    }),
    billedDurationMs,
  };
}

interface FargateMonthly extends FargateCost {
  /** Task-hours the minimum capacity runs whatever the volume. */
  baselineTaskHours: number;
  /** Task-hours of payment work the volume needs at the target utilization. */
  workTaskHours: number;
  /** Orders per month the minimum capacity can pay by itself. */
  baselineCapacityOrders: number;
}

/**
 * Fargate's monthly bill for a volume: the minimum tasks run all month; when
 * the work (orders × payment time ÷ slots per task) needs more task-hours than
 * that, the fleet scales out for exactly the extra (at the target utilization).
 * A lower bound for bursty traffic, where scale-out lags the burst.
 */
export function fargateMonthlyCost(input: CostInput): FargateMonthly {
  const r = resolveCostInput(input);
  const baselineTaskHours = r.minTasks * r.hoursPerMonth;
  const workTaskHours = (r.ordersPerMonth * (r.paymentDurationMs / 1000)) / r.slotsPerTask / 3600 / r.targetUtilization;
  const taskHours = Math.max(baselineTaskHours, workTaskHours);
  const perTaskOrdersPerHour =
    r.paymentDurationMs > 0 ? (r.slotsPerTask * 3600 * r.targetUtilization) / (r.paymentDurationMs / 1000) : Infinity;
  return {
    ...fargateCostFromTaskSeconds(taskHours * 3600, r.taskSize, r.pricing.fargate),
    baselineTaskHours,
    workTaskHours,
    baselineCapacityOrders: baselineTaskHours * perTaskOrdersPerHour,
  };
}

/** Orders per month the Lambda free tier pays for: the tighter of its requests and its GB-seconds. */
export function freeTierOrders(input: Omit<CostInput, "ordersPerMonth">): number {
  const r = resolveCostInput({ ...input, ordersPerMonth: 0 });
  const gbSecondsPerOrder = (Math.ceil(r.paymentDurationMs + r.lambdaOverheadMs) / 1000) * memoryGb(r.memoryMb);
  const byCompute = gbSecondsPerOrder > 0 ? r.pricing.lambda.freeGbSecondsPerMonth / gbSecondsPerOrder : Infinity;
  return Math.min(r.pricing.lambda.freeRequestsPerMonth, byCompute);
}

/**
 * The monthly volume at which Lambda's bill reaches `budgetUsd` (the study's
 * "when does Lambda = ECS $20/month?"). Bisection on the monotone bill.
 */
export function ordersForLambdaBudget(budgetUsd: number, input: Omit<CostInput, "ordersPerMonth"> = {}): number {
  const bill = (orders: number) => lambdaMonthlyCost({ ...input, ordersPerMonth: orders }).totalUsd;
  return solveIncreasing((orders) => bill(orders) - budgetUsd);
}

/**
 * The smallest monthly volume at which Lambda costs as much as Fargate, or null when Lambda stays
 * cheaper at any volume. Past the free tier Lambda's bill grows faster, so the bills cross once.
 */
export function breakEvenOrders(input: Omit<CostInput, "ordersPerMonth">): number | null {
  const diff = (orders: number) =>
    lambdaMonthlyCost({ ...input, ordersPerMonth: orders }).totalUsd -
    fargateMonthlyCost({ ...input, ordersPerMonth: orders }).totalUsd;
  const free = Math.floor(freeTierOrders(input));
  if (diff(free) >= 0) return free;
  const solved = solveIncreasing(diff, free);
  return Number.isFinite(solved) ? solved : null;
}

/** Smallest x ≥ lo (to 0.01) with f(x) ≥ 0 for an eventually increasing f; Infinity when none below 1e15. */
function solveIncreasing(f: (x: number) => number, lo = 0): number {
  if (f(lo) >= 0) return lo;
  let hi = Math.max(1, lo * 2);
  while (f(hi) < 0) {
    hi *= 2;
    if (hi > 1e15) return Infinity;
  }
  let a = lo;
  for (let i = 0; i < 200 && hi - a > 0.01; i++) {
    const mid = (a + hi) / 2;
    if (f(mid) >= 0) hi = mid;
    else a = mid;
  }
  return hi;
}

interface CostComparison {
  input: ResolvedCostInput;
  lambda: LambdaCost & { billedDurationMs: number };
  fargate: FargateMonthly;
  cheaper: "lambda" | "fargate" | "equal";
  /** Monthly orders above which Fargate is cheaper; null when Lambda always is. */
  breakEvenOrders: number | null;
  /** Monthly orders the Lambda free tier covers. */
  freeTierOrders: number;
  /** One Fargate task per hour, split into vCPU and memory. */
  fargateTaskHour: { vcpuUsd: number; memoryUsd: number; totalUsd: number };
}

/** Both bills for a monthly volume, which is cheaper, where they cross and what the free tier covers. */
export function compareCosts(input: CostInput): CostComparison {
  const resolved = resolveCostInput(input);
  const lambda = lambdaMonthlyCost(resolved);
  const fargate = fargateMonthlyCost(resolved);
  const { ordersPerMonth: _, ...rest } = resolved;
  const delta = roundUsd(lambda.totalUsd, 6) - roundUsd(fargate.totalUsd, 6);
  return {
    input: resolved,
    lambda,
    fargate,
    cheaper: delta < 0 ? "lambda" : delta > 0 ? "fargate" : "equal",
    breakEvenOrders: breakEvenOrders(rest),
    freeTierOrders: freeTierOrders(rest),
    fargateTaskHour: fargateTaskHourUsd(resolved.taskSize, resolved.pricing.fargate),
  };
}

/** One row of a volume table as the study prints it. */
interface StudyVolumeRow {
  ordersPerMonth: number;
  lambdaUsd: number;
  ecsUsd: number;
  /** The ECS cell's text when it is more than a number ("$500+", "$150*"). */
  ecsText?: string;
  /** Its "Savings" column, as a fraction (0.896 for 89.6%). */
  savings: number;
  lines: string;
}

interface StudyVolumeTable {
  title: string;
  lines: string;
  /** How the study priced each column, in its words. */
  basis: { lambda: string; ecs: string };
  /** The model's assumptions that reproduce the study's Lambda column where its arithmetic holds. */
  lambdaInput: Omit<CostInput, "ordersPerMonth">;
  rows: readonly StudyVolumeRow[];
}

/**
 * The study's two volume tables, verbatim. Its ECS column is never derived in the report:
 * `deriveStudyVolumeTable` sets the model beside each figure and says where they disagree.
 */
export const STUDY_VOLUME_TABLES: Readonly<Record<"realWorld" | "perOrder", StudyVolumeTable>> = {
  realWorld: {
    title: "REAL-WORLD VOLUME ANALYSIS",
    lines: "flash-sale-report.txt:4521-4533",
    basis: {
      lambda:
        "$0.20 per million requests and $0.0000166667 per GB-s after the free tier, 1.5 GB-s an order (flash-sale-report.txt:4425-4433)",
      ecs: "not derived: 2 tasks cost $20.40 a month (flash-sale-report.txt:4410-4413), 2 tasks for 20 days plus 25 for 10 days $98.80 (flash-sale-report.txt:4415-4418); the other figures have no arithmetic",
    },
    lambdaInput: {},
    rows: [
      { ordersPerMonth: 1_000, lambdaUsd: 0, ecsUsd: 20, savings: 1, lines: "flash-sale-report.txt:4525" },
      { ordersPerMonth: 10_000, lambdaUsd: 0, ecsUsd: 20, savings: 1, lines: "flash-sale-report.txt:4526" },
      { ordersPerMonth: 100_000, lambdaUsd: 0, ecsUsd: 50, savings: 1, lines: "flash-sale-report.txt:4527" },
      { ordersPerMonth: 267_000, lambdaUsd: 0.01, ecsUsd: 70, savings: 0.9998, lines: "flash-sale-report.txt:4528" },
      { ordersPerMonth: 500_000, lambdaUsd: 8.33, ecsUsd: 80, savings: 0.896, lines: "flash-sale-report.txt:4529" },
      { ordersPerMonth: 1_000_000, lambdaUsd: 18.33, ecsUsd: 98, savings: 0.813, lines: "flash-sale-report.txt:4530" },
      { ordersPerMonth: 2_000_000, lambdaUsd: 56.67, ecsUsd: 150, savings: 0.622, lines: "flash-sale-report.txt:4531" },
      {
        ordersPerMonth: 5_000_000,
        lambdaUsd: 153.33,
        ecsUsd: 300,
        savings: 0.489,
        lines: "flash-sale-report.txt:4532",
      },
      {
        ordersPerMonth: 10_000_000,
        lambdaUsd: 323.33,
        ecsUsd: 500,
        ecsText: "$500+",
        savings: 0.35,
        lines: "flash-sale-report.txt:4533",
      },
    ],
  },
  perOrder: {
    title: "Cost Comparison at Different Scales",
    lines: "flash-sale-report.txt:3849-3856",
    basis: {
      lambda: "$0.000025 an order, 0.5 GB × 3 s, no free tier and no request charge (flash-sale-report.txt:3836)",
      ecs: '"Average: ~$150/month with good auto-scaling", between 2 tasks ($23) and 25 tasks 24/7 ($288) (flash-sale-report.txt:3826-3830)',
    },
    lambdaInput: {
      freeTier: false,
      pricing: { ...STUDY_PRICING, lambda: { ...STUDY_PRICING.lambda, requestUsdPerMillion: 0 } },
    },
    rows: [
      { ordersPerMonth: 1_000, lambdaUsd: 0.03, ecsUsd: 150, savings: 0.9998, lines: "flash-sale-report.txt:3851" },
      { ordersPerMonth: 100_000, lambdaUsd: 2.5, ecsUsd: 150, savings: 0.9833, lines: "flash-sale-report.txt:3852" },
      { ordersPerMonth: 1_000_000, lambdaUsd: 25, ecsUsd: 150, savings: 0.8333, lines: "flash-sale-report.txt:3853" },
      {
        ordersPerMonth: 10_000_000,
        lambdaUsd: 250,
        ecsUsd: 150,
        ecsText: "$150*",
        savings: -0.66,
        lines: "flash-sale-report.txt:3854",
      },
    ],
  },
};

interface DerivedVolumeRow {
  study: StudyVolumeRow;
  /** 1 − Lambda ÷ ECS from the study's own two columns. */
  savingsFromItsColumns: number;
  /** The model with the study's prices: Lambda on the table's basis, Fargate with the model's fleet. */
  model: { lambdaUsd: number; fargateUsd: number; savings: number };
  /** What does not follow, in words; empty when every figure does. */
  disagreements: string[];
}

/** Relative tolerance for "the same dollar figure": the study writes $20 for its own $20.40. */
const VOLUME_TOLERANCE = 0.03;

/** Whether a derived fraction prints as the stated one, rounded or truncated to the stated precision. */
function samePercent(stated: number, derived: number): boolean {
  const points = Math.round(stated * 100 * 1e4) / 1e4;
  const decimals = String(points).split(".")[1]?.length ?? 0;
  return Math.abs(derived * 100 - points) < 10 ** -decimals;
}

function differs(stated: number, derived: number): boolean {
  if (Math.abs(stated - derived) < 0.01) return false;
  return Math.abs(stated - derived) > VOLUME_TOLERANCE * Math.max(Math.abs(stated), Math.abs(derived));
}

/**
 * Derives each row of one of the study's volume tables from the cost model (Fargate: `fleet`, by
 * default the study's 2 tasks always on, scaling out only for the payment work) and flags every
 * figure that does not follow: a Lambda cost its prices do not give, an ECS cost the model does
 * not give, a savings percentage its own two columns do not give.
 */
export function deriveStudyVolumeTable(
  table: StudyVolumeTable,
  fleet: Omit<CostInput, "ordersPerMonth"> = {},
): DerivedVolumeRow[] {
  const usd = (n: number) => `$${roundUsd(n).toFixed(2)}`;
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  return table.rows.map((row) => {
    const lambda = lambdaMonthlyCost({ ...table.lambdaInput, ordersPerMonth: row.ordersPerMonth }).totalUsd;
    const fargate = fargateMonthlyCost({ ...fleet, ordersPerMonth: row.ordersPerMonth }).totalUsd;
    const savingsFromItsColumns = row.ecsUsd > 0 ? 1 - row.lambdaUsd / row.ecsUsd : Number.NaN;
    const disagreements: string[] = [];
    if (differs(row.lambdaUsd, roundUsd(lambda)))
      disagreements.push(`Lambda: its prices give ${usd(lambda)}, not ${usd(row.lambdaUsd)}`);
    if (differs(row.ecsUsd, fargate))
      disagreements.push(`ECS: the model gives ${usd(fargate)}, not ${row.ecsText ?? usd(row.ecsUsd)}`);
    if (!samePercent(row.savings, savingsFromItsColumns))
      disagreements.push(`savings: its own columns give ${pct(savingsFromItsColumns)}, not ${pct(row.savings)}`);
    return {
      study: row,
      savingsFromItsColumns,
      model: { lambdaUsd: lambda, fargateUsd: fargate, savings: fargate > 0 ? 1 - lambda / fargate : Number.NaN },
      disagreements,
    };
  });
}
