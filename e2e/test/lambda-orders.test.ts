import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { ensureTopology, newOrderId, OrderQueue, type OrderStore, OrderTopic, totalCents } from "@surge/core";
import type { LambdaControlState } from "@surge/lambda-runtime";
import { parseReportLine } from "@surge/lambda-runtime";
import { buildLambdaBundles, type LambdaBundles, repoRoot } from "@surge/lambda-runtime/testing";
import { type StackLambda, startStackLambda } from "@surge/local/lambda";
import { type Emulator, startEmulator, tempDir, tempSqliteStore, uniqueName, waitFor } from "@surge/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

describe("the local Lambda function paying orders from the SNS subscription", () => {
  let emulator: Emulator;
  let bundles: LambdaBundles;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    [emulator, bundles] = await Promise.all([startEmulator(), buildLambdaBundles()]);
  });
  afterAll(async () => {
    await emulator?.stop();
    bundles?.remove();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(options: { env?: Record<string, string>; reservedConcurrency?: number } = {}) {
    const t = tempSqliteStore();
    const logs = tempDir("surge-lambda-logs-");
    cleanups.push(t.remove, () => logs.remove());
    const base = uniqueName("orders");
    const topology = await ensureTopology(
      emulator.clients,
      { topic: base, queue: base, dlq: `${base}-dlq` },
      { maxReceiveCount: 5, visibilityTimeoutSeconds: 30, lambdaQueue: `${base}-lambda` },
    );
    const lambda: StackLambda = await startStackLambda({
      repoRoot,
      logDir: logs.path,
      childEnv: { DATA_DIR: t.dataDir, PAYMENT_DURATION_MS: "400", LOG_LEVEL: "warn", ...options.env },
      clients: emulator.clients,
      topology,
      visibilityTimeoutSeconds: 30,
      controlPort: 0,
      reservedConcurrency: options.reservedConcurrency ?? 5,
      memoryMb: 512,
      timeoutSeconds: 30,
      idleTimeoutSeconds: 300,
      async: { retryBaseDelayMs: 100, throttleBaseDelayMs: 100, throttleMaxDelayMs: 400 },
      handlerModule: bundles.ordersFunction,
      bootstrapScript: bundles.bootstrap,
      waitTimeSeconds: 1,
    });
    cleanups.push(() => lambda.close());
    const topic = new OrderTopic(emulator.clients.sns, topology.topicArn);
    const workersQueue = new OrderQueue(emulator.clients.sqs, topology.queueUrl, topology.dlqUrl);
    const lambdaQueue = new OrderQueue(emulator.clients.sqs, topology.lambdaQueueUrl ?? "", topology.dlqUrl);
    /** Accepts `n` orders and publishes them all at once, routed to Lambda, as the outbox relay does. */
    const fire = async (n: number) => {
      const orders = await Promise.all(Array.from({ length: n }, () => accept(t.store)));
      const accepted = await topic.publishBatch(
        orders.map((o, i) => ({
          id: String(i),
          message: JSON.stringify({ orderId: o.orderId, acceptedAt: o.acceptedAt }),
          target: "lambda" as const,
        })),
      );
      expect(accepted.size).toBe(n);
      return orders.map((o) => o.orderId);
    };
    return {
      store: t.store,
      lambda,
      topology,
      fire,
      workersQueue,
      lambdaQueue,
      logFile: join(logs.path, "lambda-surge-orders.log"),
    };
  }

  it("ten orders at once at reserved concurrency 5: five cold starts with init durations, five warm", async () => {
    const { store, lambda, fire, workersQueue, lambdaQueue, logFile } = await setup();
    const orderIds = await fire(10);
    await waitFor(async () => (await store.countByStatus()).paid === 10, { timeoutMs: 40_000, what: "10 orders paid" });
    await waitFor(() => lambda.runtime.fn.reports(20).length === 10, { what: "10 REPORTs" });

    const fn = lambda.runtime.fn;
    const reports = fn.reports(20);
    const cold = reports.filter((r) => r.start === "cold");
    const warm = reports.filter((r) => r.start === "warm");
    expect(cold).toHaveLength(5);
    expect(warm).toHaveLength(5);
    for (const r of cold) {
      expect(r.initDurationMs).toBeGreaterThan(0);
      expect(r.line).toMatch(/\tInit Duration: \d+\.\d{2} ms\t$/);
    }
    for (const r of warm) expect(r.line).not.toMatch(/Init Duration/);
    // Five environments served the ten: each its own cold start, the throttled five warm on
    // whichever was idle. Usually that is two each, as in the study; with 400 ms payments, an
    // environment whose cold start the CPU delayed (a loaded CI machine) can serve one while
    // another serves three, so the split itself is not asserted.
    const envs = fn.environments();
    expect(envs).toHaveLength(5);
    for (const e of envs) expect(e.invocations).toBeGreaterThanOrEqual(1);
    expect(envs.reduce((sum, e) => sum + e.invocations, 0)).toBe(10);
    expect(fn.totals.throttles).toBeGreaterThanOrEqual(5);

    const r = await store.reconcile();
    expect(r).toMatchObject({ charges: 10, paidTwice: 0, paidWithoutCharge: 0 });
    for (const id of orderIds) expect((await store.getOrder(id))?.status).toBe("paid");
    // Routed by the filter policies: nothing reached the workers' queue; the Lambda queue drained.
    expect(await workersQueue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    await waitFor(async () => (await lambdaQueue.depth()).inFlight === 0, { what: "lambda queue drained" });
    expect((await lambdaQueue.depth()).visible).toBe(0);

    // The same figures over the control endpoint, in Prometheus' exposition, and in the function's log.
    const control = lambda.runtime.control.url;
    const state = (await (await fetch(`${control}/v1/state`)).json()) as LambdaControlState;
    expect(state.totals).toMatchObject({ invocations: 10, cold: 5, warm: 5, errors: 0 });
    expect(state.environments).toMatchObject({ idle: 5, busy: 0 });
    const summary = (await (await fetch(`${control}/v1/summary?sinceMs=0`)).json()) as {
      coldStarts: number;
      initDurationMs: { count: number; p95: number };
    };
    expect(summary.coldStarts).toBe(5);
    expect(summary.initDurationMs.count).toBe(5);
    expect(summary.initDurationMs.p95).toBe(Math.max(...cold.map((c) => c.initDurationMs ?? 0)));
    const metrics = await (await fetch(`${control}/metrics`)).text();
    expect(metrics).toMatch(
      /surge_lambda_invocations_total\{start="cold",outcome="success",function="surge-orders"\} 5/,
    );
    expect(metrics).toMatch(
      /surge_lambda_invocations_total\{start="warm",outcome="success",function="surge-orders"\} 5/,
    );
    expect(metrics).toMatch(/surge_lambda_init_duration_seconds_count\{function="surge-orders"\} 5/);
    expect(metrics).toMatch(/surge_lambda_environments\{state="idle",function="surge-orders"\} 5/);

    await lambda.close();
    const lines = readFileSync(logFile, "utf8").split("\n");
    const parsed = lines.filter((l) => l.startsWith("REPORT ")).map((l) => parseReportLine(l));
    expect(parsed).toHaveLength(10);
    expect(parsed.filter((p) => p?.initDurationMs !== undefined)).toHaveLength(5);
  });

  it("loses no order when an environment is killed mid-payment: the retry takes the lease back and pays once", async () => {
    const { store, lambda, fire } = await setup({ env: { PAYMENT_DURATION_MS: "1500" }, reservedConcurrency: 1 });
    const [orderId] = await fire(1);
    const fn = lambda.runtime.fn;
    await waitFor(async () => (await store.getOrder(orderId ?? ""))?.status === "processing", {
      what: "the payment under way",
    });
    const [env] = fn.environments();
    expect(env?.state).toBe("busy");
    expect(fn.signalEnvironment(env?.id ?? "", "SIGKILL")).toBe(true);

    await waitFor(async () => (await store.getOrder(orderId ?? ""))?.status === "paid", {
      timeoutMs: 20_000,
      what: "paid after the crash",
    });
    // The store says paid a moment before the retried invocation's REPORT line is written.
    await waitFor(() => fn.reports(10).length >= 2, { what: "the retry's REPORT line" });
    const reports = fn.reports(10).reverse();
    expect(reports.map((r) => [r.start, r.outcome, r.errorType ?? null])).toEqual([
      ["cold", "error", "Runtime.ExitError"],
      ["cold", "success", null],
    ]);
    expect(reports[0]?.line).toMatch(/Status: error\tError Type: Runtime\.ExitError\t$/);
    expect(await store.reconcile()).toMatchObject({ charges: 1, paidTwice: 0 });
  });

  it("dead-letters an order whose payments fail three attempts: DLQ with the reason, order dead", async () => {
    const { store, lambda, fire, topology } = await setup({ env: { PAYMENT_FAILURE_RATE: "1" } });
    // A message on the Lambda queue that no SNS subscription would deliver goes to the DLQ too.
    await emulator.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: topology.lambdaQueueUrl ?? "", MessageBody: "%% not an envelope" }),
    );
    const [orderId] = await fire(1);
    await waitFor(async () => (await store.getOrder(orderId ?? ""))?.status === "dead", {
      timeoutMs: 20_000,
      what: "order dead",
    });
    const order = await store.getOrder(orderId ?? "");
    expect(order?.lastError).toMatch(/^lambda: failed 3 attempt\(s\): OrderProcessingError: .*declined/);
    expect(order?.attempts).toBe(3);
    expect(lambda.runtime.fn.reports(10).map((r) => r.outcome)).toEqual(["error", "error", "error"]);

    const dead =
      (await waitFor(
        async () => {
          const out = await emulator.clients.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: topology.dlqUrl,
              MaxNumberOfMessages: 10,
              MessageAttributeNames: ["All"],
              WaitTimeSeconds: 1,
            }),
          );
          return (out.Messages?.length ?? 0) >= 2 ? out.Messages : undefined;
        },
        { what: "two dead letters" },
      )) ?? [];
    const byOrder = dead.find((m) => m.MessageAttributes?.orderId?.StringValue === orderId);
    expect(JSON.parse(byOrder?.Body ?? "{}")).toMatchObject({ orderId });
    expect(byOrder?.MessageAttributes?.reason?.StringValue).toMatch(/^lambda: failed 3 attempt/);
    const poison = dead.find((m) => m.Body === "%% not an envelope");
    expect(poison?.MessageAttributes?.reason?.StringValue).toMatch(/not JSON|not an SNS notification/);
    expect(await store.reconcile()).toMatchObject({ charges: 0, deadUnexplained: 0 });
  });

  it("serves Lambda's Invoke API on the control port: token required, 429 when throttled", async () => {
    const { lambda, store } = await setup({ reservedConcurrency: 1 });
    const { url } = lambda.runtime.control;
    const invoke = (body: unknown, token?: string) =>
      fetch(`${url}/2015-03-31/functions/surge-orders/invocations`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
    const unknownOrder = {
      Records: [
        {
          EventSource: "aws:sns",
          Sns: { MessageId: "m", Message: JSON.stringify({ orderId: newOrderId(), acceptedAt: "t" }) },
        },
      ],
    };
    expect((await invoke(unknownOrder)).status).toBe(401);
    const token = lambda.runtime.controlToken;
    // A real order holds the only slot for its 400 ms payment.
    const order = await accept(store);
    const slow = lambda.runtime.fn.invoke({
      Records: [{ Sns: { MessageId: "slow", Message: JSON.stringify({ orderId: order.orderId, acceptedAt: "t" }) } }],
    });
    const throttled = await invoke(unknownOrder, token);
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toMatchObject({ __type: "TooManyRequestsException" });
    await slow;
    const ok = await invoke(unknownOrder, token);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-amz-function-error")).toBeNull();
    expect(((await ok.json()) as { report: { line: string } }).report.line).toMatch(/^REPORT RequestId: /);
  });
});

async function accept(store: OrderStore) {
  const items = [{ productId: "tv", quantity: 1, price: 499 }];
  const { order } = await store.acceptOrder(
    {
      orderId: newOrderId(),
      customerId: 1001,
      items,
      totalCents: totalCents(items),
      mode: "async",
      acceptedAtMs: Date.now(),
    },
    { outbox: false },
  );
  return order;
}
