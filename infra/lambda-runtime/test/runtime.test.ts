import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAfterEach, tempDir, waitFor } from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AsyncInvoker, type AsyncInvokerOptions, type AsyncOutcome } from "../src/async-invoker.js";
import { type LambdaControlState, startLambdaControl } from "../src/control.js";
import {
  type InvocationResult,
  LocalLambdaFunction,
  type LocalLambdaOptions,
  TooManyRequestsError,
} from "../src/function.js";
import { createLambdaMetrics } from "../src/metrics.js";
import { parseReportLine } from "../src/report.js";
import { alive, buildLambdaBundles, type LambdaBundles } from "./bundles.js";

describe("local Lambda runtime: execution environments as processes", () => {
  let bundles: LambdaBundles;
  const cleanups = cleanupAfterEach();
  beforeAll(async () => {
    bundles = await buildLambdaBundles();
  });
  afterAll(() => bundles?.remove());

  function fn(options: Partial<LocalLambdaOptions> = {}) {
    const dir = tempDir("surge-lambda-fn-");
    const f = new LocalLambdaFunction({
      functionName: "fixture",
      handlerModule: bundles.fixture,
      handlerName: "handler",
      bootstrapScript: bundles.bootstrap,
      reservedConcurrency: 2,
      logFile: join(dir.path, "function.log"),
      ...options,
    });
    cleanups.push(
      () => dir.remove(),
      () => f.close(),
    );
    return { f, logFile: join(dir.path, "function.log") };
  }

  function asyncInvoker(f: LocalLambdaFunction, options: AsyncInvokerOptions = {}) {
    const invoker = new AsyncInvoker(f, { retryBaseDelayMs: 50, throttleBaseDelayMs: 50, ...options });
    cleanups.push(() => invoker.close());
    const settle = (payload: unknown, acceptedAtMs = Date.now()) =>
      new Promise<AsyncOutcome>((resolve) =>
        invoker.enqueue({ id: String(Math.random()), payload, acceptedAtMs }, resolve),
      );
    return { invoker, settle };
  }

  it("starts cold once, then reuses the warm environment; REPORT lines in AWS's format", async () => {
    const { f, logFile } = fn();
    const first = await f.invoke({ action: "echo", value: 1 });
    const second = await f.invoke({ action: "echo", value: 2 });
    expect(first.ok && second.ok).toBe(true);
    expect((first.result as { pid: number }).pid).toBe((second.result as { pid: number }).pid);
    expect(first.report).toMatchObject({ start: "cold", outcome: "success", memorySizeMb: 512 });
    expect(first.report.initDurationMs).toBeGreaterThan(0);
    expect(second.report.start).toBe("warm");
    expect(second.report.initDurationMs).toBeUndefined();
    // The handler sees its deadline: 30 s timeout.
    expect((first.result as { remainingMs: number }).remainingMs).toBeGreaterThan(29_000);

    const parsed = parseReportLine(first.report.line);
    expect(parsed).toMatchObject({
      requestId: first.requestId,
      memorySizeMb: 512,
      initDurationMs: first.report.initDurationMs,
    });
    // Billed = duration + init, rounded up: Lambda bills the init phase.
    expect(first.report.billedDurationMs).toBe(
      Math.ceil(first.report.durationMs + (first.report.initDurationMs ?? 0) - 1e-9),
    );
    expect(first.report.line).toMatch(
      /^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d{2} ms\t$/,
    );
    expect(second.report.line).not.toMatch(/Init Duration/);
    const [env] = f.environments();
    expect(env).toMatchObject({ state: "idle", invocations: 2 });
    expect(env?.initPhases?.handlerLoadMs).toBeGreaterThan(0);
    await f.close(); // flushes the function log
    const log = readFileSync(logFile, "utf8");
    for (const r of [first, second]) {
      expect(log).toContain(`START RequestId: ${r.requestId} Version: $LATEST\n`);
      expect(log).toContain(`END RequestId: ${r.requestId}\n${r.report.line}\n`);
    }
  });

  it("shuts an idle environment down after the idle timeout: the next invocation starts cold", async () => {
    const { f } = fn({ idleTimeoutMs: 300 });
    const { registry } = createLambdaMetrics(f);
    const ended: string[] = [];
    f.on("environment-ended", ({ reason }) => ended.push(reason));
    const first = await f.invoke({ action: "echo" });
    const pid = (first.result as { pid: number }).pid;
    expect(alive(pid)).toBe(true);
    await waitFor(() => ended.includes("idle") && !alive(pid), { timeoutMs: 10_000, what: "idle expiry" });
    expect(f.environments()).toEqual([]);
    const second = await f.invoke({ action: "echo" });
    expect(second.report.start).toBe("cold");
    expect((second.result as { pid: number }).pid).not.toBe(pid);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/surge_lambda_environments_ended_total\{reason="idle",function="fixture"\} 1/);
    expect(metrics).toMatch(/surge_lambda_invocations_total\{start="cold",outcome="success",function="fixture"\} 2/);
  });

  it("throttles an invocation beyond the reserved concurrency, and counts it", async () => {
    const { f } = fn({ reservedConcurrency: 2 });
    const { registry } = createLambdaMetrics(f);
    const running = [f.invoke({ action: "sleep", ms: 400 }), f.invoke({ action: "sleep", ms: 400 })];
    expect(f.concurrentExecutions).toBe(2);
    await expect(f.invoke({ action: "echo" })).rejects.toBeInstanceOf(TooManyRequestsError);
    const metricsDuring = await registry.metrics();
    expect(metricsDuring).toMatch(/surge_lambda_concurrent_executions\{function="fixture"\} 2/);
    expect(metricsDuring).toMatch(/surge_lambda_throttles_total\{function="fixture"\} 1/);
    const done = await Promise.all(running);
    const pids = new Set(done.map((r) => (r.result as { pid: number }).pid));
    expect(pids.size).toBe(2);
    const after = await f.invoke({ action: "echo" });
    expect(after.report.start).toBe("warm");
    expect(pids.has((after.result as { pid: number }).pid)).toBe(true);
    expect(f.totals).toEqual({ cold: 2, warm: 1, provisioned: 0, errors: 0, throttles: 1 });
    expect(f.summary({ sinceMs: 0, untilMs: Date.now() + 1 })).toMatchObject({
      invocations: 3,
      coldStarts: 2,
      throttles: 1,
    });
  });

  it("logs eight environments into one file without Node's listener-leak warning", async () => {
    const { f, logFile } = fn({ reservedConcurrency: 8 });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    try {
      const done = await Promise.all(Array.from({ length: 8 }, () => f.invoke({ action: "sleep", ms: 200 })));
      expect(new Set(done.map((r) => (r.result as { pid: number }).pid)).size).toBe(8);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
    // The file is written asynchronously: the last REPORT may land a moment after its invocation.
    await waitFor(() => readFileSync(logFile, "utf8").match(/^REPORT /gm)?.length === 8, { what: "8 REPORT lines" });
  });

  it("retries a failing event with backoff and succeeds on its third attempt", async () => {
    const { f } = fn();
    const { settle } = asyncInvoker(f);
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const outcome = await settle({ action: "fail-times", times: 2, file: join(dir.path, "attempts") });
    expect(outcome).toMatchObject({ kind: "success", attempts: 3 });
    const reports = f.reports(10).reverse();
    expect(reports.map((r) => r.outcome)).toEqual(["error", "error", "success"]);
    // A handled error keeps the environment: one cold start, then warm retries.
    expect(reports.map((r) => r.start)).toEqual(["cold", "warm", "warm"]);
    expect(reports[0]?.errorType).toBe("Error");
  });

  it("dead-letters an event after three failed attempts, with the reason", async () => {
    const { f } = fn();
    const retries: string[] = [];
    const { invoker, settle } = asyncInvoker(f);
    invoker.on("retry", ({ reason }) => retries.push(reason));
    const outcome = await settle({ action: "throw", message: "payment declined" });
    expect(outcome).toMatchObject({ kind: "dead", attempts: 3 });
    expect((outcome as { reason: string }).reason).toMatch(
      /failed 3 attempt\(s\): OrderProcessingError: payment declined/,
    );
    expect(retries).toEqual(["error", "error"]);
    expect(f.totals.errors).toBe(3);
  });

  it("keeps retrying a throttled event until a slot frees (throttles do not use up attempts)", async () => {
    const { f } = fn({ reservedConcurrency: 1 });
    const { settle } = asyncInvoker(f);
    const busy = f.invoke({ action: "sleep", ms: 700 });
    const outcome = await settle({ action: "echo", value: "late" });
    expect(outcome).toMatchObject({ kind: "success", attempts: 1 });
    expect((outcome as { throttles: number }).throttles).toBeGreaterThanOrEqual(2);
    await busy;
    // The retry found the first environment warm.
    expect(f.totals).toMatchObject({ cold: 1, warm: 1 });
  });

  it("dead-letters a throttled event that reaches its maximum age", async () => {
    const { f } = fn({ reservedConcurrency: 1 });
    const { settle } = asyncInvoker(f, { maxEventAgeMs: 300 });
    const busy = f.invoke({ action: "sleep", ms: 1500 });
    const outcome = await settle({ action: "echo" });
    expect(outcome).toMatchObject({ kind: "dead", attempts: 0 });
    expect((outcome as { reason: string }).reason).toMatch(/maximum age .* throttled/);
    await busy;
  });

  it("ends an environment whose process dies mid-invocation: Runtime.ExitError, and the next one starts cold", async () => {
    const { f } = fn();
    const exited = await f.invoke({ action: "exit" });
    expect(exited).toMatchObject({ ok: false, errorType: "Runtime.ExitError" });
    expect(exited.report.line).toMatch(/\tStatus: error\tError Type: Runtime\.ExitError\t$/);

    const sleeping = f.invoke({ action: "sleep", ms: 5000 });
    await waitFor(() => f.environments().some((e) => e.state === "busy" && e.pid !== undefined), {
      what: "a busy environment",
    });
    const env = f.environments()[0];
    expect(f.signalEnvironment(env?.id ?? "", "SIGKILL")).toBe(true);
    const killed: InvocationResult = await sleeping;
    expect(killed).toMatchObject({ ok: false, errorType: "Runtime.ExitError" });
    expect(killed.errorMessage).toMatch(/SIGKILL/);
    expect(f.environments()).toEqual([]);
    const next = await f.invoke({ action: "echo" });
    expect(next.report.start).toBe("cold");
  });

  it("times an invocation out at the function's timeout and resets its environment", async () => {
    const { f } = fn({ timeoutSeconds: 1 });
    const result = await f.invoke({ action: "hang" });
    expect(result).toMatchObject({ ok: false, errorType: "Sandbox.Timedout" });
    expect(result.report.durationMs).toBeGreaterThanOrEqual(1000);
    expect(result.report.line).toMatch(/\tStatus: timeout\t$/);
    expect(f.environments()).toEqual([]);
    expect((await f.invoke({ action: "echo" })).report.start).toBe("cold");
  });

  it("reports a failed init with the error Lambda gives, and no environment survives it", async () => {
    for (const [module, errorType] of [
      [bundles.noHandler, "Runtime.HandlerNotFound"],
      [bundles.brokenInit, "Runtime.ImportModuleError"],
    ] as const) {
      const { f } = fn({ handlerModule: module });
      const result = await f.invoke({ action: "echo" });
      expect(result).toMatchObject({ ok: false, errorType });
      expect(result.report).toMatchObject({ start: "cold", outcome: "error", status: "error" });
      expect(result.report.line).toMatch(
        new RegExp(`Init Duration: [\\d.]+ ms\\tStatus: error\\tError Type: ${errorType.replace(".", "\\.")}\\t$`),
      );
      expect(f.environments()).toEqual([]);
    }
  });

  it("keeps provisioned environments initialised ahead of time: no cold start on them, on-demand beyond", async () => {
    const { f, logFile } = fn({ reservedConcurrency: 3, provisionedConcurrency: 2 });
    const { registry } = createLambdaMetrics(f);
    // Initialised at configuration, before any invocation, as Lambda allocates provisioned environments.
    await waitFor(() => f.provisionedCounts().ready === 2, { timeoutMs: 10_000 });
    expect(f.environments().map((e) => e.initializationType)).toEqual([
      "provisioned-concurrency",
      "provisioned-concurrency",
    ]);
    expect(f.environmentCounts()).toEqual({ idle: 2, busy: 0 });

    // Three at once: two land on the provisioned environments warm, the third starts on demand, cold.
    const results = await Promise.all([1, 2, 3].map(() => f.invoke({ action: "sleep", ms: 200 })));
    const provisioned = results.filter((r) => r.report.initializationType === "provisioned-concurrency");
    const onDemand = results.filter((r) => r.report.initializationType === "on-demand");
    expect(provisioned).toHaveLength(2);
    for (const r of provisioned) {
      expect(r.report.start).toBe("warm");
      expect(r.report.initDurationMs).toBeUndefined();
      // AWS: an invocation on a provisioned environment has no Init Duration in its REPORT line.
      expect(r.report.line).not.toMatch(/Init Duration/);
    }
    expect(onDemand).toHaveLength(1);
    expect(onDemand[0]?.report.start).toBe("cold");
    expect(onDemand[0]?.report.line).toMatch(/\tInit Duration: [\d.]+ ms\t$/);
    expect(f.totals).toMatchObject({ cold: 1, warm: 2, provisioned: 2 });
    // The environment itself knows how it was started, as AWS_LAMBDA_INITIALIZATION_TYPE tells it.
    const seen = await f.invoke({ action: "env" });
    expect(seen.report.initializationType).toBe("provisioned-concurrency");
    expect((seen.result as { keys: string[] }).keys).toContain("AWS_LAMBDA_INITIALIZATION_TYPE");

    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^surge_lambda_provisioned_invocations_total\{function="fixture"\} 3$/m);
    expect(metrics).toMatch(/^surge_lambda_provisioned_spillover_invocations_total\{function="fixture"\} 1$/m);
    expect(metrics).toMatch(/^surge_lambda_provisioned_concurrency\{function="fixture"\} 2$/m);
    expect(readFileSync(logFile, "utf8").match(/Init Duration/g)).toHaveLength(1);

    // Down to 0: the idle provisioned environments stop; the on-demand one stays warm until it expires.
    f.setProvisionedConcurrency(0);
    await waitFor(() => f.environments().every((e) => e.initializationType === "on-demand"), { timeoutMs: 5000 });
    expect(f.environments()).toHaveLength(1);
    expect(await registry.metrics()).toMatch(
      /^surge_lambda_environments_ended_total\{reason="deprovisioned",function="fixture"\} 2$/m,
    );
    expect(() => f.setProvisionedConcurrency(4)).toThrow(/0\.\.3/);
  });

  it("retries a provisioned environment whose init fails a second later, not in a loop", async () => {
    const { f } = fn({ handlerModule: bundles.brokenInit, provisionedConcurrency: 1 });
    let failed = 0;
    f.on("environment-ended", ({ reason }) => {
      if (reason === "init-failed") failed++;
    });
    await waitFor(() => failed >= 1, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 2500));
    // One failure, then a retry a second apart: 2–4 in 2.5 s, where a loop would fork dozens.
    expect(failed).toBeGreaterThanOrEqual(2);
    expect(failed).toBeLessThanOrEqual(4);
    expect(f.provisionedCounts().ready).toBe(0);
  });

  it("sets provisioned concurrency over the control endpoint, within the reserved, and resets it", async () => {
    const { f } = fn({ reservedConcurrency: 3, provisionedConcurrency: 1 });
    const invoker = new AsyncInvoker(f);
    cleanups.push(() => invoker.close());
    const { registry } = createLambdaMetrics(f, invoker);
    const control = await startLambdaControl({ fn: f, invoker, registry, port: 0, token: "t".repeat(32) });
    cleanups.push(() => control.close());
    const put = (body: unknown) =>
      fetch(`${control.url}/v1/provisioned-concurrency`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const set = await put({ provisionedConcurrency: 3 });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ configured: 3, base: 1 });
    for (const bad of [
      { provisionedConcurrency: 4 },
      { provisionedConcurrency: -1 },
      { provisionedConcurrency: 1.5 },
      {},
    ]) {
      const refused = await put(bad);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        field: "provisionedConcurrency",
        message: expect.stringContaining("0..3"),
      });
    }
    await waitFor(() => f.provisionedCounts().ready === 3, { timeoutMs: 10_000 });
    const state = (await (await fetch(`${control.url}/v1/state`)).json()) as LambdaControlState;
    expect(state.provisionedConcurrency).toEqual({ configured: 3, base: 1, ready: 3, initializing: 0 });
    const reset = await fetch(`${control.url}/v1/provisioned-concurrency`, { method: "DELETE" });
    expect(await reset.json()).toMatchObject({ configured: 1, base: 1 });
    await waitFor(() => f.environments().length === 1, { timeoutMs: 5000 });
  });

  it("replaces a provisioned environment that dies, and returns to its own setting on reset", async () => {
    const { f } = fn({ reservedConcurrency: 2, provisionedConcurrency: 1 });
    await waitFor(() => f.provisionedCounts().ready === 1, { timeoutMs: 10_000 });
    const [first] = f.environments();
    expect(f.signalEnvironment(first?.id ?? "", "SIGKILL")).toBe(true);
    await waitFor(() => f.provisionedCounts().ready === 1 && f.environments()[0]?.id !== first?.id, {
      timeoutMs: 10_000,
    });
    f.setProvisionedConcurrency(2);
    await waitFor(() => f.provisionedCounts().ready === 2, { timeoutMs: 10_000 });
    f.resetProvisionedConcurrency();
    expect(f.provisionedConcurrency).toBe(1);
    await waitFor(() => f.environments().length === 1, { timeoutMs: 5000 });
    expect((await f.invoke({ action: "echo" })).report).toMatchObject({
      start: "warm",
      initializationType: "provisioned-concurrency",
    });
  });

  it("gives an environment the function's configuration and the runtime's variables, nothing from the host", async () => {
    process.env.SURGE_HOST_ONLY = "must-not-leak";
    cleanups.push(() => {
      delete process.env.SURGE_HOST_ONLY;
    });
    const { f } = fn({ environment: { CUSTOM: "configured" }, memoryMb: 256 });
    const result = await f.invoke({ action: "env" });
    const seen = result.result as { keys: string[]; stream: string; custom: string };
    expect(seen.custom).toBe("configured");
    expect(seen.keys).toEqual(expect.arrayContaining(["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]));
    expect(seen.keys).not.toContain("SURGE_HOST_ONLY");
    expect(seen.keys).not.toContain("NODE_EXTRA_CA_CERTS");
    expect(seen.stream).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(result.report.memorySizeMb).toBe(256);
  });
});
