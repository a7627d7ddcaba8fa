/**
 * The figures the console reads from the ops plane count every platform the orders were routed to:
 * orders published to Lambda are waiting orders too, and the Lambda section says how many wait for
 * it; a fleet's cost is not priced per order for a burst only Lambda paid.
 */
import { emulatorSuite, STUDY_INIT_DURATION_MS, tempSqliteStore, validOrder, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import type {
  LambdaInsights,
  LambdaLive,
  LambdaReportView,
  LambdaSummary,
  SummaryWindow,
} from "../src/lambda/insights.js";
import { ProcessingRouter } from "../src/lambda/processing.js";
import { BURST_RECORD_KIND } from "../src/ops/modules/bursts.js";
import { lambdaModule } from "../src/ops/modules/lambda.js";
import { OPS_TOKEN, postJson, startTestApi } from "./helpers.js";

/** A function that invoked `invocations` times with `errors` errors, and never answers for the orders themselves. */
function insightsWith(invocations: number, errors = 0): LambdaInsights {
  return {
    source: "local",
    functionName: "surge-orders",
    live: (): Promise<LambdaLive> =>
      Promise.resolve({
        source: "local",
        functionName: "surge-orders",
        concurrentExecutions: 0,
        environments: { idle: 0, busy: 0, starting: 0 },
        invocations,
        errors,
        throttles: 0,
        period: "since-start",
      }),
    summary: (window: SummaryWindow): Promise<LambdaSummary> =>
      Promise.resolve({
        source: "local",
        functionName: "surge-orders",
        sinceMs: window.sinceMs,
        untilMs: window.untilMs,
        invocations,
        coldStarts: 0,
        warmStarts: invocations,
        coldStartShare: 0,
        errors,
        throttles: 0,
        initDurationMs: { ...STUDY_INIT_DURATION_MS, count: 0 },
        durationMs: { ...STUDY_INIT_DURATION_MS, count: invocations },
        billedGbSeconds: invocations * 1.5,
        maxMemoryUsedMb: 54,
        binSeconds: window.binSeconds ?? 300,
        bins: [],
      }),
    recentReports: (): Promise<LambdaReportView[]> => Promise.resolve([]),
  };
}

describe("ops figures across platforms", () => {
  const suite = emulatorSuite();

  async function start(insights: LambdaInsights) {
    const t = tempSqliteStore();
    suite.cleanups.push(t.remove);
    const processing = new ProcessingRouter(t.store);
    await processing.load();
    const api = await startTestApi(t.store, suite.emulator, {
      lambdaQueue: true,
      processing,
      opsModules: [
        lambdaModule({
          insights,
          processing,
          deployment: { paymentDurationMs: 3000, paymentSlots: 5, lambdaMemoryMb: 512 },
          desiredTasks: async () => 2,
        }),
      ],
    });
    suite.cleanups.push(api.close);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${OPS_TOKEN}`,
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read by path in the assertions
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    return { store: t.store, url: api.url, call };
  }

  it("counts orders routed to Lambda as waiting, overall and in the Lambda section", async () => {
    const { store, url, call } = await start(insightsWith(0));
    expect((await call("PUT", "/ops/processing", { target: "lambda" })).status).toBe(200);
    // Nothing consumes the Lambda queue here: three orders wait for the function.
    for (let i = 0; i < 3; i++) expect((await postJson(`${url}/orders/async`, validOrder())).status).toBe(202);
    await waitFor(async () => (await store.outboxStats()).pending === 0, { what: "published" });

    const state = (await call("GET", "/ops/state")).body;
    expect(state.queue.backlog).toBe(3);
    expect(state.queue.byPlatform).toEqual({
      workers: { waiting: 0, processing: 0 },
      lambda: { waiting: 3, processing: 0 },
    });
    expect(state.queue.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(state.lambda.orders).toEqual({ waiting: 3, processing: 0, paid: 0, dead: 0 });
    expect((await call("GET", "/ops/lambda?reports=0")).body.orders).toEqual({
      waiting: 3,
      processing: 0,
      paid: 0,
      dead: 0,
    });
  });

  it("prices the fleet per order only over the orders the workers paid", async () => {
    const onlyLambda = await start(insightsWith(120));
    const t0 = Date.now() - 60_000;
    await onlyLambda.store.putRecord(
      BURST_RECORD_KIND,
      "b1",
      { id: "b1", startedAt: new Date(t0).toISOString(), requests: 100, failures: 0 },
      t0,
    );
    const all = (await onlyLambda.call("GET", "/ops/cost/observed?burstId=b1")).body;
    expect(all.fargate.totalUsd).toBeGreaterThan(0);
    expect(all.burstOrders).toMatchObject({ orders: 100, paidByLambda: 100, paidByWorkers: 0 });
    expect(all.burstOrders.fargateObservedPerOrderUsd).toBeNull();

    // 30 successful invocations of 100 orders: the fleet paid 70, and its cost is spread over them.
    const split = await start(insightsWith(35, 5));
    await split.store.putRecord(
      BURST_RECORD_KIND,
      "b2",
      { id: "b2", startedAt: new Date(t0).toISOString(), requests: 100, failures: 0 },
      t0,
    );
    const some = (await split.call("GET", `/ops/cost/observed?burstId=b2&untilMs=${t0 + 36_000}`)).body;
    expect(some.burstOrders).toMatchObject({ paidByLambda: 30, paidByWorkers: 70 });
    expect(some.burstOrders.fargateObservedPerOrderUsd).toBeCloseTo(some.fargate.totalUsd / 70, 6);
  });
});
