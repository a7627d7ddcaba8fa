/**
 * The figures of the study (`shared/seed/flash-sale-report.txt`) the console
 * shows beside live measurements, so every number on screen can be compared
 * with the one that started it all. Verbatim; each cites its section.
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

/** "COMPARISON: SYNC vs ASYNC" — the Flash sale burst (20 users, 60 s) on each endpoint. */
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
    lostRatio: 0,
  },
} as const;

/**
 * The capacity lesson (Phase 3 "Scaling Math", Part II): one task pays
 * slots ÷ duration orders per second whatever its concurrency; only more
 * tasks scale; 60 orders/s needs 36 tasks.
 */
export const STUDY_LESSON = {
  perTaskPerSecond: STUDY_PAYMENT.slots / (STUDY_PAYMENT.durationMs / 1000),
  flashSaleArrivalPerSecond: 48.27,
  queueGrowthPerSecond: 46,
  drainMinutesOneWorker: [27, 48],
  targetRatePerSecond: 60,
  tasksForTarget: 36,
} as const;

/** Lambda cold starts observed in the study (Part III, "COLD START REALITY CHECK"). */
export const STUDY_LAMBDA = { initMsAverage: 59.93, initMsRange: [57, 66], memoryMb: 512 } as const;
