/**
 * The figures of the study (`shared/seed/flash-sale-report.txt`) the console
 * shows beside live measurements, so every number on screen can be compared
 * with the one that started it all. Verbatim; each cites its lines in flash-sale-report.txt.
 */

/** Burst presets: the study's Locust runs (Test 1 and Test 2). */
export const PRESETS = {
  normal: {
    label: "Normal",
    description: "5 users, 1 user/s, 30 s — within capacity (Test 1)",
    users: 5,
    spawnRate: 1,
    durationSeconds: 30,
  },
  flashSale: {
    label: "Flash sale",
    description: "20 users, 10 users/s, 60 s — the study's flash sale (Test 2, Test 3)",
    users: 20,
    spawnRate: 10,
    durationSeconds: 60,
  },
} as const;

/** Locust's `wait_time = between(0.1, 0.5)` in the study's locustfile. */
export const STUDY_WAIT_MS = { min: 100, max: 500 } as const;

/** The payment processor: 3 s per payment, 5 at once (Phase 2, "Do the Math"). */
export const STUDY_PAYMENT = { durationMs: 3000, slots: 5 } as const;

/**
 * "COMPARISON: SYNC vs ASYNC" (flash-sale-report.txt:407-415) — the Flash sale burst (20 users,
 * 60 s) on each endpoint. The study's table has no median or p99 row: those come from its Test 2
 * and Test 3 results (flash-sale-report.txt:61, :383, :393), as `STUDY_COMPARISON_SOURCES` says.
 */
export const STUDY_COMPARISON = {
  sync: {
    totalRequests: 95,
    successRatio: 1,
    throughputPerSecond: 1.67,
    avgResponseMs: 10_707,
    maxResponseMs: 11_891,
    p50Ms: 12_000,
    lostRatio: 0.52,
  },
  async: {
    totalRequests: 2884,
    successRatio: 1,
    throughputPerSecond: 48.27,
    avgResponseMs: 110,
    maxResponseMs: 459,
    p50Ms: 110,
    p99Ms: 190,
    lostRatio: 0,
  },
} as const;

/** Where each of the study's comparison figures comes from, and what kind of figure it is. */
export const STUDY_COMPARISON_SOURCES: Record<
  keyof (typeof STUDY_COMPARISON)["async"],
  { lines: string; estimate?: string }
> = {
  totalRequests: { lines: "flash-sale-report.txt:409" },
  successRatio: { lines: "flash-sale-report.txt:410" },
  throughputPerSecond: { lines: "flash-sale-report.txt:411" },
  avgResponseMs: { lines: "flash-sale-report.txt:412" },
  maxResponseMs: { lines: "flash-sale-report.txt:413" },
  p50Ms: { lines: "flash-sale-report.txt:61, :383 (Test 2 and Test 3; the table has no median row)" },
  p99Ms: { lines: "flash-sale-report.txt:393 (Test 3 only)" },
  lostRatio: {
    lines: "flash-sale-report.txt:415, :155-158",
    estimate:
      'the sync ~52% is the study\'s estimate: 95 completed of "~200 orders attempted", assumed from ' +
      '"20 users * ~10 requests each" (flash-sale-report.txt:155-158); Test 2 had 0 failures (flash-sale-report.txt:55)',
  },
};

/**
 * The figures the capacity planner starts from (Phase 3 "Scaling Math", Part II): the flash sale's
 * accept rate 48.27/s (flash-sale-report.txt:411), a queue growing ~46/s (flash-sale-report.txt:595-596),
 * 27.8 to 48 minutes to drain with one worker (flash-sale-report.txt:607, :2048), and its first answer for
 * 60 orders/s, 36 processes at one goroutine (flash-sale-report.txt:1609-1614).
 */
export const STUDY_LESSON = {
  perTaskPerSecond: STUDY_PAYMENT.slots / (STUDY_PAYMENT.durationMs / 1000),
  flashSaleArrivalPerSecond: 48.27,
  queueGrowthPerSecond: 46,
  drainMinutesOneWorker: [27, 48],
  targetRatePerSecond: 60,
  tasksForTarget: 36,
} as const;

/**
 * What the study said about goroutines and processes, in its order: the hypothesis it opened
 * Phase 5 with, what it concluded from its measurements, and its final answer.
 */
export const STUDY_WORKERS = {
  hypothesis: {
    quote: "Adding goroutines within single process won't improve throughput",
    lines: "flash-sale-report.txt:1369-1370",
  },
  conclusion: {
    quote: "Actual: 100 goroutines = 48.5% better than 1 goroutine!",
    lines: "flash-sale-report.txt:1871, :1977-1978",
    perProcessPerSecond: 2.48,
    rateLines: "flash-sale-report.txt:1827, :1769-1773",
  },
  finalAnswer: {
    processes: 25,
    goroutines: 100,
    ordersPerSecond: 62,
    lines: "flash-sale-report.txt:2449-2452",
  },
} as const;

interface StudyWorkersRow {
  topic: string;
  study: string;
  surge: string;
}

/**
 * The study's conclusion beside what Surge measures, for a task whose ceiling is `perTaskPerSecond`
 * (PAYMENT_SLOTS ÷ payment time, reached at concurrency ≥ slots) and a target rate.
 */
export function studyWorkersComparison(perTaskPerSecond: number, targetPerSecond = 60): StudyWorkersRow[] {
  const w = STUDY_WORKERS;
  const r = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  const tasks = perTaskPerSecond > 0 ? Math.ceil(targetPerSecond / perTaskPerSecond - 1e-9) : Number.NaN;
  return [
    {
      topic: "Opening hypothesis",
      study: `"${w.hypothesis.quote}" (${w.hypothesis.lines})`,
      surge: `Holds: a task pays at most ${r(perTaskPerSecond)} orders/s whatever its concurrency.`,
    },
    {
      topic: "Measured conclusion",
      study: `"${w.conclusion.quote}" (${w.conclusion.lines}), ${w.conclusion.perProcessPerSecond} o/s per process`,
      surge:
        `Below the slot count a task pays concurrency ÷ payment time (one order at a time at 1); from the slot ` +
        `count up every concurrency pays ${r(perTaskPerSecond)}/s, so 100 beats 1 only by filling the slots. The study's ${w.conclusion.perProcessPerSecond} o/s is above that ceiling: it is ` +
        `the fall of the visible message count (${w.conclusion.rateLines}), which also falls when messages go in flight.`,
    },
    {
      topic: `Final answer for ${r(targetPerSecond)} orders/s`,
      study:
        `${w.finalAnswer.processes} processes × ${w.finalAnswer.goroutines} goroutines, ` +
        `${w.finalAnswer.ordersPerSecond} o/s (${w.finalAnswer.lines})`,
      surge:
        `${tasks} tasks (${r(targetPerSecond)} ÷ ${r(perTaskPerSecond)}); ${w.finalAnswer.processes} tasks pay ` +
        `${r(w.finalAnswer.processes * perTaskPerSecond)}/s.`,
    },
  ];
}

/** Lambda cold starts observed in the study (flash-sale-report.txt:3536-3538, :3551). */
export const STUDY_LAMBDA = { initMsAverage: 59.93, initMsRange: [57, 66], memoryMb: 512 } as const;
