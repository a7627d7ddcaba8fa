/**
 * A running local stack watched by a real Prometheus on a random loopback port: the emulator and the API
 * in-process (with the modules main.ts mounts), real worker tasks whose targets file is Prometheus' file_sd.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Api, createApi } from "@surge/api/app";
import { createScaling } from "@surge/api/autoscaling";
import { loadEnv as loadApiEnv } from "@surge/api/env";
import { createLambdaInsights, ProcessingRouter } from "@surge/api/lambda";
import type { OpsModule } from "@surge/api/ops/context";
import { burstsModule } from "@surge/api/ops/modules/bursts";
import { lambdaModule } from "@surge/api/ops/modules/lambda";
import { createLogger, ensureTopology, OrderQueue, OrderTopic, SqliteOrderStore } from "@surge/core";
import {
  type AlertParams,
  alertingRules,
  DEFAULT_ALERT_PARAMS,
  RULE_FILES,
  recordingRules,
  renderRuleFile,
} from "@surge/grafana/prometheus";
import { repoRoot } from "@surge/grafana/testing";
import { buildLambdaBundles } from "@surge/lambda-runtime/testing";
import { type FleetControlServer, startFleetControl } from "@surge/local/fleet-control";
import { type StackLambda, startStackLambda } from "@surge/local/lambda";
import { findOnPath, type PrometheusProcess, startPrometheus, writePrometheusFiles } from "@surge/local/prometheus";
import { TaskSupervisor } from "@surge/local/supervisor";
import { type Emulator, freePort, startEmulator, tempDir, uniqueName, workerScript } from "@surge/testing";

export { freePort };

export const OPERATOR_TOKEN = "grafana-test-operator-token-0123";
const silentLog = createLogger({ service: "test" }, { write: () => {} });

export interface ObservedStackOptions {
  workerTasks: number;
  paymentDurationMs: number;
  /** Alert thresholds; the alert test shortens them. Default: the committed ones. */
  alertParams?: AlertParams;
  /**
   * Run the local Lambda runtime with the real function (bundled from source),
   * fed by the topic's Lambda subscription; PUT /ops/processing routes orders to it.
   */
  lambda?: boolean;
}

export interface ObservedStack {
  apiUrl: string;
  prometheusUrl: string;
  api: Api;
  supervisor: TaskSupervisor;
  /** Calls the API's ops plane with the operator token. */
  ops(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** An instant or range query; throws with Prometheus' error text on an error answer. */
  query(expr: string, range?: { start: number; end: number; step: number }): Promise<PromResult[]>;
  prometheusGet<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

export interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

export async function startObservedStack(options: ObservedStackOptions): Promise<ObservedStack> {
  const binary = findOnPath("prometheus");
  if (!binary) throw new Error("these tests need the `prometheus` binary on the PATH (apt-get install prometheus)");
  const cleanups: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning up
      }
    }
  };
  try {
    const dir = tempDir("surge-grafana-test-");
    cleanups.push(() => dir.remove());
    const emulator: Emulator = await startEmulator();
    cleanups.push(() => emulator.stop());
    const base = uniqueName("orders");
    const names = { topic: base, queue: base, dlq: `${base}-dlq` };
    const topology = await ensureTopology(emulator.clients, names, {
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 10,
      ...(options.lambda && { lambdaQueue: `${base}-lambda` }),
    });
    const store = new SqliteOrderStore(join(dir.path, "surge.db"));
    cleanups.push(() => store.close());
    const promDir = join(dir.path, "prometheus");
    mkdirSync(promDir, { recursive: true });

    const supervisor = new TaskSupervisor({
      script: await workerScript(),
      env: {
        PATH: process.env.PATH,
        ...emulator.env,
        DATA_DIR: dir.path,
        ORDERS_TOPIC: names.topic,
        ORDERS_TOPIC_ARN: topology.topicArn,
        ORDERS_QUEUE: names.queue,
        ORDERS_DLQ: names.dlq,
        PAYMENT_DURATION_MS: String(options.paymentDurationMs),
        PAYMENT_SLOTS: "5",
        VISIBILITY_TIMEOUT_SECONDS: "10",
        // Short long-polls so a task told to stop stops at once.
        WAIT_TIME_SECONDS: "1",
        SHUTDOWN_DEADLINE_MS: "5000",
        LOG_LEVEL: "warn",
      },
      desiredCount: options.workerTasks,
      concurrency: 5,
      logDir: join(dir.path, "logs"),
      targetsFile: join(promDir, "workers.json"),
      stopTimeoutMs: 8000,
    });
    cleanups.push(() => supervisor.close());
    const fleetToken = randomBytes(16).toString("hex");
    const fleetControl: FleetControlServer = await startFleetControl({
      supervisor,
      maxTasks: 4,
      token: fleetToken,
      port: 0,
    });
    cleanups.push(() => fleetControl.close());

    let lambda: StackLambda | undefined;
    if (options.lambda) {
      const bundles = await buildLambdaBundles();
      cleanups.push(() => bundles.remove());
      lambda = await startStackLambda({
        repoRoot,
        logDir: join(dir.path, "logs"),
        childEnv: { DATA_DIR: dir.path, PAYMENT_DURATION_MS: String(options.paymentDurationMs), LOG_LEVEL: "warn" },
        clients: emulator.clients,
        topology,
        visibilityTimeoutSeconds: 10,
        controlPort: 0,
        reservedConcurrency: 5,
        memoryMb: 512,
        timeoutSeconds: 30,
        idleTimeoutSeconds: 300,
        handlerModule: bundles.ordersFunction,
        bootstrapScript: bundles.bootstrap,
        waitTimeSeconds: 1,
      });
      const running = lambda;
      cleanups.push(() => running.close());
    }

    // The read-only token Prometheus delivers alerts with, as npm start keeps it in DATA_DIR.
    const alertsToken = randomBytes(18).toString("base64url");
    writeFileSync(join(promDir, "alerts.token"), alertsToken, { mode: 0o600 });

    const apiEnv = loadApiEnv({
      OPS_TOKEN: OPERATOR_TOKEN,
      DATA_DIR: dir.path,
      PAYMENT_DURATION_MS: String(options.paymentDurationMs),
      MAX_WORKER_TASKS: "4",
      FLEET: "local",
      FLEET_CONTROL_URL: fleetControl.url,
      FLEET_CONTROL_TOKEN: fleetToken,
      ORDERS_QUEUE: names.queue,
      ORDERS_DLQ: names.dlq,
    });
    const queue = new OrderQueue(emulator.clients.sqs, topology.queueUrl, topology.dlqUrl);
    const scaling = createScaling(apiEnv, { store, queue, log: silentLog });
    // As api/src/main.ts wires the Lambda path: insights from the runtime, a router choosing the path.
    const insights = createLambdaInsights({ LAMBDA_CONTROL_URL: lambda?.runtime.control.url });
    const processing = new ProcessingRouter(store, { lambdaAvailable: insights !== undefined });
    await processing.load();
    let apiUrl = "";
    const modules: OpsModule[] = [
      burstsModule({ ownBaseUrl: () => apiUrl }),
      ...scaling.modules,
      lambdaModule({
        insights,
        processing,
        deployment: { paymentDurationMs: options.paymentDurationMs, paymentSlots: 5 },
        desiredTasks: async () => (await scaling.fleet.describe()).desiredCount,
      }),
    ];
    const api = createApi({
      store,
      queue,
      topic: new OrderTopic(emulator.clients.sns, topology.topicArn),
      log: silentLog,
      opsTokens: [
        { token: OPERATOR_TOKEN, label: "operator", role: "operator" },
        { token: alertsToken, label: "alerts", role: "read-only" },
      ],
      payment: { slots: 5, durationMs: options.paymentDurationMs, failureRate: 0 },
      outbox: { pollIntervalMs: 50 },
      processing,
      opsModules: modules,
    });
    api.start();
    scaling.autoscaler.start();
    const server: Server = api.app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await api.close();
    });
    const apiPort = (server.address() as AddressInfo).port;
    apiUrl = `http://127.0.0.1:${apiPort}`;
    supervisor.start();

    // Without the Lambda runtime, its job scrapes a port nobody listens on.
    const { configFile } = writePrometheusFiles({
      dir: promDir,
      apiPort,
      lambdaPort: lambda?.runtime.control.port ?? (await freePort()),
      rules: new Map([
        [RULE_FILES[0], renderRuleFile(recordingRules())],
        [RULE_FILES[1], renderRuleFile(alertingRules(options.alertParams ?? DEFAULT_ALERT_PARAMS))],
      ]),
      // One-second resolution: a test cannot wait for 5 s scrapes and 1 m windows to fill.
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
    });
    const prometheus: PrometheusProcess = await startPrometheus({
      binary,
      configFile,
      storageDir: join(dir.path, "tsdb"),
      port: await freePort(),
      logFile: join(dir.path, "logs/prometheus.log"),
    });
    // Stopped before the API and workers (cleanups run in reverse), so it never scrapes a dying stack.
    cleanups.push(() => prometheus.stop());

    const prometheusGet = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${prometheus.url}${path}`);
      const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
      if (body.status !== "success") throw new Error(`${body.errorType}: ${body.error}`);
      return body.data;
    };
    return {
      apiUrl,
      prometheusUrl: prometheus.url,
      api,
      supervisor,
      async ops(method, path, body) {
        const res = await fetch(`${apiUrl}/ops${path}`, {
          method,
          headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
      },
      async query(expr, range) {
        const params = new URLSearchParams({ query: expr });
        if (range) {
          params.set("start", String(range.start));
          params.set("end", String(range.end));
          params.set("step", String(range.step));
        }
        const data = await prometheusGet<{ result: PromResult[] }>(
          `/api/v1/${range ? "query_range" : "query"}?${params}`,
        );
        return data.result;
      },
      prometheusGet,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Targets Prometheus scrapes now, by job, with their health. */
export async function activeTargets(
  stack: ObservedStack,
): Promise<Array<{ job: string; url: string; health: string }>> {
  const data = await stack.prometheusGet<{
    activeTargets: Array<{ labels: Record<string, string>; scrapeUrl: string; health: string }>;
  }>("/api/v1/targets?state=active");
  return data.activeTargets.map((t) => ({ job: t.labels.job ?? "", url: t.scrapeUrl, health: t.health }));
}
