import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAwsClients, ensureTopology, type Topology } from "@surge/core";
import type { LocalLambdaRuntime } from "@surge/lambda-runtime";
import { buildApp } from "fauxqs";
import { type FleetControlServer, startFleetControl } from "./fleet-control.js";
import { type LocalLambdaStackOptions, type StackLambda, startStackLambda } from "./lambda.js";
import {
  committedRules,
  DEFAULT_LAMBDA_METRICS_PORT,
  findOnPath,
  type PrometheusProcess,
  startPrometheus,
  writePrometheusFiles,
} from "./prometheus.js";
import { Service } from "./service.js";
import { type SupervisorOptions, TaskSupervisor } from "./supervisor.js";

export interface StackOptions {
  repoRoot: string;
  dataDir: string;
  emulatorPort: number;
  apiPort: number;
  opsToken: string;
  workerTasks: number;
  workerConcurrency: number;
  maxWorkerTasks: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  names: { topic: string; queue: string; dlq: string };
  /** Extra environment for every child (PAYMENT_*, DATABASE_URL, LOG_LEVEL, …). */
  env: NodeJS.ProcessEnv;
  /** Port of the fleet control endpoint the API drives the supervisor through (FLEET_CONTROL_PORT); 0 = any. Default 0. */
  fleetControlPort?: number;
  /** Supervisor tuning (stop timeout, restart backoff); benchmarks and tests shorten these. */
  supervisor?: Pick<SupervisorOptions, "stopTimeoutMs" | "restartBaseDelayMs" | "restartMaxDelayMs" | "healthyAfterMs">;
  /**
   * Prometheus for the stack: its config, rules and alert token are written to
   * DATA_DIR/prometheus/ (for the compose file too), and it runs on 127.0.0.1:`port`
   * when a `prometheus` binary is on the PATH. Absent: no Prometheus at all.
   */
  prometheus?: { port: number; lambdaPort?: number };
  /**
   * The local Lambda runtime (its environments run worker/dist/lambda.js's
   * snsHandler), fed by a `<topic>-lambda` subscription. Absent: no Lambda path.
   */
  lambda?: LocalLambdaStackOptions;
  /**
   * The ops console (Next's standalone server, web/.next/standalone/web/server.js,
   * built by `npm run build`) on 127.0.0.1:`port`, talking to the API server-side
   * with the operator token. Absent: no console.
   */
  console?: { port: number; grafanaUrl?: string | undefined };
}

/** What became of the console: running at `url`, or not, and why (`notRunning`). */
interface LocalConsole {
  url?: string;
  notRunning?: string;
  service?: Service;
}

/** What became of Prometheus: running at `url`, or not, and why (`notRunning`). */
interface LocalPrometheus {
  configFile: string;
  /** The binary found on the PATH; absent when there is none. */
  binary?: string;
  url?: string;
  notRunning?: string;
}

export interface Stack {
  emulatorUrl: string;
  apiUrl: string;
  topology: Topology;
  supervisor: TaskSupervisor;
  /** The loopback control plane (the local stand-in for the ECS API) the API's LocalFleet talks to. */
  fleetControl: FleetControlServer;
  api: Service;
  logDir: string;
  prometheus?: LocalPrometheus;
  /** The local Lambda runtime, when the stack runs one. */
  lambda?: LocalLambdaRuntime;
  console?: LocalConsole;
  /**
   * Chaos: stops the in-memory emulator — every message in it is gone — and starts an empty one on
   * the same port with the same topology. The store still has the orders; recovering them is the API's job.
   */
  restartEmulator(): Promise<void>;
  close(): Promise<void>;
}

/** The AWS SDK configuration every local child uses: standard variables, emulator endpoint. */
function awsLocalEnv(emulatorUrl: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: emulatorUrl,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "surge-local",
    AWS_SECRET_ACCESS_KEY: "surge-local",
  };
}

/**
 * Starts the local stack: the SNS/SQS emulator in this process, the topology,
 * the API as a child process and the worker task supervisor. Everything it
 * starts, `close()` stops.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const logDir = join(options.dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  // fauxqs's startFauxqs() listens on every interface; the local stack keeps it on loopback.
  let emulatorApp = buildApp({ logger: false });
  await emulatorApp.listen({ port: options.emulatorPort, host: "127.0.0.1" });
  const emulator = {
    port: (emulatorApp.server.address() as AddressInfo).port,
    stop: async () => {
      const closing = emulatorApp.close();
      // Long polls (up to 20 s) would hold the close: end them, as a crash would.
      emulatorApp.server.closeAllConnections();
      await closing;
    },
  };
  const emulatorUrl = `http://127.0.0.1:${emulator.port}`;
  const aws = awsLocalEnv(emulatorUrl);
  const clientConfig = {
    endpoint: emulatorUrl,
    region: "us-east-1",
    credentials: { accessKeyId: "surge-local", secretAccessKey: "surge-local" },
  };
  const clients = createAwsClients(clientConfig);
  const createTopology = () =>
    ensureTopology(clients, options.names, {
      maxReceiveCount: options.maxReceiveCount,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      lambdaQueue: options.lambda ? `${options.names.topic}-lambda` : undefined,
    });
  const topology = await createTopology();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    ...aws,
    DATA_DIR: options.dataDir,
    OPS_TOKEN: options.opsToken,
    ORDERS_TOPIC: options.names.topic,
    ORDERS_TOPIC_ARN: topology.topicArn,
    ORDERS_QUEUE: options.names.queue,
    ORDERS_DLQ: options.names.dlq,
    MAX_RECEIVE_COUNT: String(options.maxReceiveCount),
    VISIBILITY_TIMEOUT_SECONDS: String(options.visibilityTimeoutSeconds),
    WORKER_TASKS: String(options.workerTasks),
    WORKER_CONCURRENCY: String(options.workerConcurrency),
    MAX_WORKER_TASKS: String(options.maxWorkerTasks),
    // The SDK's Node-version notice is not news on every task start.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const supervisor = new TaskSupervisor({
    script: join(options.repoRoot, "worker/dist/main.js"),
    env: childEnv,
    desiredCount: options.workerTasks,
    concurrency: options.workerConcurrency,
    logDir,
    targetsFile: join(options.dataDir, "prometheus/workers.json"),
    ...options.supervisor,
  });
  // The API changes the fleet through this endpoint; the token keeps other local processes out.
  const fleetControlToken = randomBytes(24).toString("base64url");
  const fleetControl = await startFleetControl({
    supervisor,
    maxTasks: options.maxWorkerTasks,
    token: fleetControlToken,
    port: options.fleetControlPort ?? 0,
  });
  // The Lambda runtime lives here, beside the supervisor: an API restart never loses an environment.
  let lambda: StackLambda | undefined;
  if (options.lambda) {
    try {
      lambda = await startStackLambda({
        repoRoot: options.repoRoot,
        logDir,
        childEnv,
        clients,
        topology,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        ...options.lambda,
      });
    } catch (error) {
      await Promise.allSettled([fleetControl.close(), supervisor.close()]);
      await emulator.stop();
      throw error;
    }
  }
  const prometheusFiles = options.prometheus
    ? writePrometheusFiles({
        dir: join(options.dataDir, "prometheus"),
        apiPort: options.apiPort,
        lambdaPort: lambda?.runtime.control.port ?? options.prometheus.lambdaPort ?? DEFAULT_LAMBDA_METRICS_PORT,
        rules: committedRules(options.repoRoot),
      })
    : undefined;
  const api = new Service({
    name: "api",
    script: join(options.repoRoot, "api/dist/main.js"),
    env: {
      ...childEnv,
      PORT: String(options.apiPort),
      HOST: "127.0.0.1",
      FLEET: "local",
      FLEET_CONTROL_URL: fleetControl.url,
      FLEET_CONTROL_TOKEN: fleetControlToken,
      // Prometheus (and the compose Grafana) deliver alerts with this read-only token.
      ...(prometheusFiles && { ALERT_WEBHOOK_TOKEN: prometheusFiles.alertsToken }),
      ...(lambda && {
        LAMBDA_CONTROL_URL: lambda.runtime.control.url,
        LAMBDA_MEMORY_MB: String(options.lambda?.memoryMb),
      }),
    },
    logDir,
  });
  api.start();
  supervisor.start();

  let prometheus: LocalPrometheus | undefined;
  let prometheusProcess: PrometheusProcess | undefined;
  if (options.prometheus && prometheusFiles) {
    prometheus = { configFile: prometheusFiles.configFile };
    const binary = findOnPath("prometheus");
    if (!binary) {
      prometheus.notRunning = "no `prometheus` binary on the PATH";
    } else {
      prometheus.binary = binary;
      // A Prometheus that cannot start (port taken) is reported, not fatal: the stack works without it.
      try {
        prometheusProcess = await startPrometheus({
          binary,
          configFile: prometheusFiles.configFile,
          storageDir: join(options.dataDir, "prometheus/data"),
          port: options.prometheus.port,
          logFile: join(logDir, "prometheus.log"),
        });
        prometheus.url = prometheusProcess.url;
      } catch (error) {
        prometheus.notRunning = error instanceof Error ? error.message.split("\n")[0] : String(error);
      }
    }
  }

  let opsConsole: LocalConsole | undefined;
  if (options.console) {
    const script = join(options.repoRoot, "web/.next/standalone/web/server.js");
    if (!existsSync(script)) {
      opsConsole = { notRunning: "web/.next/standalone is missing: run `npm run build` (npm start does it for you)" };
    } else {
      const url = `http://127.0.0.1:${options.console.port}`;
      const service = new Service({
        name: "console",
        script,
        env: {
          ...process.env,
          NODE_ENV: "production",
          NEXT_TELEMETRY_DISABLED: "1",
          // Next's standalone server listens on PORT and HOSTNAME (a shell's HOSTNAME is the machine's name).
          PORT: String(options.console.port),
          HOSTNAME: "127.0.0.1",
          SURGE_API_URL: `http://127.0.0.1:${options.apiPort}`,
          // The console records the live timeline with it from start-up; browsers never see it.
          SURGE_OPS_TOKEN: options.opsToken,
          // Stable for this run: a console restart (crash) keeps everyone signed in.
          SESSION_SECRET: randomBytes(32).toString("base64url"),
          ...(options.console.grafanaUrl && { GRAFANA_URL: options.console.grafanaUrl }),
        },
        logDir,
      });
      service.start();
      opsConsole = { url, service };
    }
  }

  // Print "running" only when it is: the API answers /health (store and queue reachable).
  await waitUntilHealthy(`http://127.0.0.1:${options.apiPort}/health`, 60_000);

  let closing: Promise<void> | undefined;
  return {
    emulatorUrl,
    apiUrl: `http://127.0.0.1:${options.apiPort}`,
    topology,
    supervisor,
    fleetControl,
    api,
    logDir,
    ...(prometheus && { prometheus }),
    ...(lambda && { lambda: lambda.runtime }),
    ...(opsConsole && { console: opsConsole }),
    async restartEmulator() {
      await emulator.stop();
      emulatorApp = buildApp({ logger: false });
      await emulatorApp.listen({ port: emulator.port, host: "127.0.0.1" });
      await createTopology();
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([
          api.stop(),
          supervisor.close(),
          prometheusProcess?.stop(),
          lambda?.close(),
          opsConsole?.service?.stop(),
        ]);
        await fleetControl.close();
        await emulator.stop();
      })();
      return closing;
    },
  };
}

async function waitUntilHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API did not become healthy within ${timeoutMs / 1000} s (${url}: ${last}); see its log`);
}
