import { OrderQueue, roundUsd } from "@surge/core";
import { emulatorSuite, STUDY_INIT_DURATION_MS, tempSqliteStore, validOrder, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { ACTIVITY_RECORD_KIND } from "../src/autoscaling/activity-log.js";
import type {
  LambdaInsights,
  LambdaLive,
  LambdaReportView,
  LambdaSummary,
  SummaryWindow,
} from "../src/lambda/insights.js";
import { PROCESSING_SETTING, ProcessingRouter } from "../src/lambda/processing.js";
import { BURST_RECORD_KIND } from "../src/ops/modules/bursts.js";
import { lambdaModule } from "../src/ops/modules/lambda.js";
import { OPS_TOKEN, postJson, startTestApi } from "./helpers.js";

const auth = { authorization: `Bearer ${OPS_TOKEN}` };

/** A LambdaInsights that answers what the test sets and records the windows it was asked about. */
class FakeInsights implements LambdaInsights {
  readonly source = "local" as const;
  readonly functionName = "surge-orders";
  windows: SummaryWindow[] = [];
  live(): Promise<LambdaLive> {
    return Promise.resolve({
      source: "local",
      functionName: "surge-orders",
      reservedConcurrency: 5,
      concurrentExecutions: 2,
      environments: { idle: 3, busy: 2 },
      invocations: 10,
      coldStarts: 5,
      warmStarts: 5,
      errors: 0,
      throttles: 5,
      period: "since-start",
    });
  }
  summary(window: SummaryWindow): Promise<LambdaSummary> {
    this.windows.push(window);
    return Promise.resolve({
      source: "local",
      functionName: "surge-orders",
      sinceMs: window.sinceMs,
      untilMs: window.untilMs,
      invocations: 10,
      coldStarts: 5,
      warmStarts: 5,
      coldStartShare: 0.5,
      errors: 0,
      throttles: 5,
      initDurationMs: STUDY_INIT_DURATION_MS,
      durationMs: { ...STUDY_INIT_DURATION_MS, count: 10 },
      billedGbSeconds: 15.1705,
      maxMemoryUsedMb: 54,
      binSeconds: window.binSeconds ?? 300,
      bins: [],
    });
  }
  recentReports(limit: number): Promise<LambdaReportView[]> {
    return Promise.resolve(
      Array.from({ length: Math.min(limit, 2) }, (_, i) => ({
        requestId: `r${i}`,
        at: new Date().toISOString(),
        start: "warm" as const,
        durationMs: 3003.55,
        billedDurationMs: 3004,
        memorySizeMb: 512,
        maxMemoryUsedMb: 18,
        line: `REPORT RequestId: r${i}\tDuration: 3003.55 ms\t…`,
      })),
    );
  }
}

describe("/ops/lambda, /ops/processing and /ops/cost", () => {
  const suite = emulatorSuite();

  async function start(options: { lambda?: boolean } = {}) {
    const t = tempSqliteStore();
    suite.cleanups.push(t.remove);
    const insights = options.lambda === false ? undefined : new FakeInsights();
    const processing = new ProcessingRouter(t.store, { lambdaAvailable: insights !== undefined });
    await processing.load();
    const { url, queue, topology, close } = await startTestApi(t.store, suite.emulator, {
      lambdaQueue: true,
      processing,
      opsModules: [
        lambdaModule({
          insights,
          processing,
          deployment: { paymentDurationMs: 3000, paymentSlots: 5, lambdaMemoryMb: 512 },
          desiredTasks: async () => 1,
        }),
      ],
    });
    suite.cleanups.push(close);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { ...auth, ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const lambdaQueue = new OrderQueue(suite.emulator.clients.sqs, topology.lambdaQueueUrl ?? "", topology.dlqUrl);
    /** Drains a queue: the target attribute of each message (SNS envelope or raw). */
    const drain = async (q: OrderQueue) => {
      const seen: string[] = [];
      for (;;) {
        const messages = await q.receive(10, 0);
        if (messages.length === 0) return seen;
        for (const m of messages) {
          const body = JSON.parse(m.Body ?? "{}") as {
            Type?: string;
            MessageAttributes?: Record<string, { Value: string }>;
          };
          seen.push(body.Type === "Notification" ? (body.MessageAttributes?.target?.Value ?? "none") : "raw");
          await q.delete(m.ReceiptHandle ?? "");
        }
      }
    };
    const orders = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await postJson(`${url}/orders/async`, validOrder())).status).toBe(202);
      await waitFor(async () => (await t.store.outboxStats()).pending === 0, { what: "published" });
    };
    return { store: t.store, url, call, queue, lambdaQueue, drain, orders, insights };
  }

  it("routes new orders to workers, Lambda or both, persisted and audited", async () => {
    const { store, call, queue, lambdaQueue, drain, orders } = await start();
    expect((await call("GET", "/ops/processing")).body).toEqual({ target: "workers", lambdaConfigured: true });

    await orders(2);
    expect(await drain(queue)).toEqual(["raw", "raw"]);
    expect(await drain(lambdaQueue)).toEqual([]);

    const changed = await call("PUT", "/ops/processing", { target: "lambda" });
    expect(changed).toEqual({ status: 200, body: { target: "lambda", before: "workers" } });
    expect(await store.getSetting(PROCESSING_SETTING)).toBe("lambda");
    await orders(3);
    expect(await drain(lambdaQueue)).toEqual(["lambda", "lambda", "lambda"]);
    expect(await drain(queue)).toEqual([]);

    // "both" splits evenly, each order to exactly one platform.
    await call("PUT", "/ops/processing", { target: "both" });
    await orders(6);
    expect(await drain(lambdaQueue)).toHaveLength(3);
    expect(await drain(queue)).toHaveLength(3);

    const audit = await call("GET", "/ops/audit?action=processing");
    expect(audit.body.entries).toEqual([
      expect.objectContaining({ actor: "test-operator", before: { target: "lambda" }, after: { target: "both" } }),
      expect.objectContaining({ before: { target: "workers" }, after: { target: "lambda" } }),
    ]);
    // A restarted API routes where the last operator said.
    const restarted = new ProcessingRouter(store);
    expect((await restarted.load()).target).toBe("both");
    expect((await call("GET", "/ops/state")).body.processing).toEqual({ target: "both", lambdaConfigured: true });
  });

  it("refuses a bad target naming the field, and Lambda when there is no function", async () => {
    const { call } = await start({ lambda: false });
    const bad = await call("PUT", "/ops/processing", { target: "ecs" });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ field: "target", message: "must be one of workers, lambda, both" }]);
    expect((await call("PUT", "/ops/processing", { target: "lambda", extra: 1 })).status).toBe(400);
    const noLambda = await call("PUT", "/ops/processing", { target: "both" });
    expect(noLambda.status).toBe(409);
    expect(noLambda.body.error).toMatch(/no Lambda function is configured/);
    expect((await call("GET", "/ops/lambda")).status).toBe(404);
    expect((await call("PUT", "/ops/processing", { target: "workers" })).status).toBe(200);
  });

  it("falls back to the workers on start when the stored target needs a function that is gone", async () => {
    const t = tempSqliteStore();
    suite.cleanups.push(t.remove);
    await t.store.setSetting(PROCESSING_SETTING, "lambda");
    const router = new ProcessingRouter(t.store, { lambdaAvailable: false });
    expect(await router.load()).toEqual({ target: "workers", stored: "lambda" });
    expect(router.next()).toBe("workers");
  });

  it("GET /ops/lambda: live figures, the window's summary and recent REPORT lines; the state has a lambda section", async () => {
    const { call, insights } = await start();
    const res = await call("GET", "/ops/lambda?windowMinutes=30&binSeconds=60&reports=2");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      source: "local",
      functionName: "surge-orders",
      processing: "workers",
      live: { coldStarts: 5, warmStarts: 5, environments: { idle: 3, busy: 2 } },
      summary: { invocations: 10, coldStarts: 5, initDurationMs: { p50: 58.41, p95: 65.87, p99: 65.87 } },
    });
    expect(res.body.recentReports).toHaveLength(2);
    const window = insights?.windows.at(-1);
    expect((window?.untilMs ?? 0) - (window?.sinceMs ?? 0)).toBe(30 * 60_000);
    expect(window?.binSeconds).toBe(60);

    expect((await call("GET", "/ops/lambda?windowMinutes=0")).status).toBe(400);
    expect((await call("GET", "/ops/lambda?bogus=1")).status).toBe(400);

    const state = (await call("GET", "/ops/state")).body;
    expect(state.lambda).toMatchObject({
      coldStarts: 5,
      concurrentExecutions: 2,
      lastFifteenMinutes: { coldStartShare: 0.5, initDurationMs: { p95: 65.87 } },
    });
  });

  it("GET and POST /ops/cost answer the study's figures with this deployment's defaults", async () => {
    const { call } = await start();
    const byDefault = await call("GET", "/ops/cost");
    expect(byDefault.status).toBe(200);
    expect(byDefault.body).toMatchObject({
      cheaper: "lambda",
      freeTierOrders: 266_666,
      display: { lambda: "$18.33", fargate: "$20.44" },
      input: { ordersPerMonth: 1_000_000, paymentDurationMs: 3000, memoryMb: 512, slotsPerTask: 5, minTasks: 2 },
    });
    expect(roundUsd((byDefault.body.lambda as { totalUsd: number }).totalUsd, 2)).toBe(18.33);

    const at267k = await call("GET", "/ops/cost?ordersPerMonth=267000");
    expect(at267k.body.display).toMatchObject({ lambda: "$0.01" });
    const noFreeTier = await call("GET", "/ops/cost?ordersPerMonth=100000&freeTier=false&taskVcpu=0.5&taskMemoryGb=1");
    expect(roundUsd((noFreeTier.body.lambda as { computeUsd: number }).computeUsd, 2)).toBe(2.5);
    expect(noFreeTier.body.fargateTaskHourUsd).toBe(0.02839);

    const priced = await call("POST", "/ops/cost", {
      ordersPerMonth: 2_000_000,
      memoryMb: 1024,
      pricing: { lambda: { gbSecondUsd: 0.0000133334 } },
    });
    expect(priced.status).toBe(200);
    expect(
      (priced.body.input as { pricing: { lambda: { gbSecondUsd: number; requestUsdPerMillion: number } } }).pricing
        .lambda,
    ).toMatchObject({
      gbSecondUsd: 0.0000133334,
      requestUsdPerMillion: 0.2,
    });

    const bad = await call("GET", "/ops/cost?ordersPerMonth=-5");
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: "ordersPerMonth" })]);
    expect((await call("GET", "/ops/cost?orders=5")).status).toBe(400);
    const badBody = await call("POST", "/ops/cost", { memoryMb: 64 });
    expect(badBody.status).toBe(400);
    expect(badBody.body.details).toEqual([{ field: "memoryMb", message: "must be in 128..10240" }]);
  });

  it("prices the fleet observed in a window from the scaling activity log, and the function's REPORTs", async () => {
    const { store, call } = await start();
    const t0 = Date.now() - 120_000;
    const activity = (atMs: number, from: number, to: number, status = "successful") =>
      store.putRecord(
        ACTIVITY_RECORD_KIND,
        `a-${atMs}`,
        { id: `a-${atMs}`, at: new Date(atMs).toISOString(), from, to, status },
        atMs,
      );
    await activity(t0 - 60_000, 1, 2);
    await activity(t0 + 10_000, 2, 6);
    await activity(t0 + 20_000, 6, 9, "failed");
    await activity(t0 + 40_000, 6, 3);
    await activity(t0 + 90_000, 3, 20); // after the window
    await store.putRecord(
      BURST_RECORD_KIND,
      "b1",
      { id: "b1", startedAt: new Date(t0).toISOString(), requests: 2888, failures: 0 },
      t0,
    );
    const res = await call("GET", `/ops/cost/observed?burstId=b1&untilMs=${t0 + 60_000}`);
    expect(res.status).toBe(200);
    const fargate = res.body.fargate as Record<string, number>;
    expect(fargate.taskSeconds).toBe(2 * 10 + 6 * 30 + 3 * 20);
    expect(fargate.tasksAtStart).toBe(2);
    expect(fargate.scalingChanges).toBe(2);
    // 260 task-seconds of 0.25 vCPU / 0.5 GB at the study's prices.
    expect(fargate.totalUsd).toBe(roundUsd((260 / 3600) * 0.014195, 6));
    expect(res.body.lambda).toMatchObject({ invocations: 10, billedGbSeconds: 15.1705 });
    expect(res.body.burstOrders).toMatchObject({
      orders: 2888,
      onLambdaUsd: roundUsd(2888 * 1.5 * 0.0000166667 + 2888 * 0.2e-6, 6),
    });
    expect((await call("GET", "/ops/cost/observed?burstId=nope")).status).toBe(404);
    expect((await call("GET", `/ops/cost/observed?sinceMs=${t0}&untilMs=${t0 - 1}`)).status).toBe(400);
  });
});
