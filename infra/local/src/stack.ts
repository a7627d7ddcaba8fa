import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAwsClients, ensureTopology, type Topology } from "@surge/core";
import type { LocalLambdaRuntime } from "@surge/lambda-runtime";
import { buildApp } from "fauxqs";
import { type FleetControlServer, startFleetControl } from "./fleet-control.js";
import { keptSecret, sessionSecretFile } from "./kept-secrets.js";
import { type LocalLambdaStackOptions, type StackLambda, startStackLambda } from "./lambda.js";
import { asListenError, assertPortsFree, portClashes, type StackPort } from "./ports.js";
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

/** What became of the console: running at `url`, or not built (`notRunning`). */
interface LocalConsole {
  url?: string;
  notRunning?: string;
  service?: Service;
}

/** What became of Prometheus: running at `url`, or not (no binary on the PATH: `notRunning`). */
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
  const consoleScript = join(options.repoRoot, "web/.next/standalone/web/server.js");
  const runConsole = options.console !== undefined && existsSync(consoleScript);
  const prometheusBinary = options.prometheus ? findOnPath("prometheus") : undefined;
  const ports = {
    emulator: { piece: "the SNS/SQS emulator", port: options.emulatorPort, variable: "EMULATOR_PORT" },
    api: { piece: "the API", port: options.apiPort, variable: "PORT" },
    fleetControl: {
      piece: "the fleet control endpoint",
      port: options.fleetControlPort ?? 0,
      variable: "FLEET_CONTROL_PORT",
    },
    lambda: { piece: "the Lambda runtime", port: options.lambda?.controlPort ?? 0, variable: "LAMBDA_CONTROL_PORT" },
    prometheus: { piece: "Prometheus", port: options.prometheus?.port ?? 0, variable: "PROMETHEUS_PORT" },
    console: { piece: "the console", port: options.console?.port ?? 0, variable: "WEB_PORT" },
  } satisfies Record<string, StackPort>;
  const used: StackPort[] = [ports.emulator, ports.api, ports.fleetControl];
  if (options.lambda) used.push(ports.lambda);
  if (prometheusBinary) used.push(ports.prometheus);
  if (runConsole) used.push(ports.console);
  // Before anything starts: a clash or a taken port stops the start-up with nothing to clean up.
  const clashes = portClashes(used);
  if (clashes.length > 0) throw new Error(clashes.join("\n"));
  await assertPortsFree(used);

  // Everything started so far, stopped in reverse order when a later piece cannot start.
  const started: Array<() => Promise<unknown>> = [];
  const undo = async () => {
    for (const stop of started.reverse()) await stop().catch(() => {});
  };
  try {
    return await startPieces();
  } catch (error) {
    await undo();
    throw error;
  }

  async function startPieces(): Promise<Stack> {
    // fauxqs's startFauxqs() listens on every interface; the local stack keeps it on loopback.
    let emulatorApp = buildApp({ logger: false });
    await emulatorApp.listen({ port: options.emulatorPort, host: "127.0.0.1" }).catch((error: unknown) => {
      throw asListenError(ports.emulator, error);
    });
    const emulator = {
      port: (emulatorApp.server.address() as AddressInfo).port,
      stop: async () => {
        const closing = emulatorApp.close();
        // Long polls (up to 20 s) would hold the close: end them, as a crash would.
        emulatorApp.server.closeAllConnections();
        await closing;
      },
    };
    started.push(() => emulator.stop());
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
    started.push(() => supervisor.close());
    // The API changes the fleet through this endpoint; the token keeps other local processes out.
    const fleetControlToken = randomBytes(24).toString("base64url");
    const fleetControl = await startFleetControl({
      supervisor,
      maxTasks: options.maxWorkerTasks,
      token: fleetControlToken,
      port: options.fleetControlPort ?? 0,
    }).catch((error: unknown) => {
      throw asListenError(ports.fleetControl, error);
    });
    started.push(() => fleetControl.close());
    // The Lambda runtime lives here, beside the supervisor: an API restart never loses an environment.
    let lambda: StackLambda | undefined;
    if (options.lambda) {
      lambda = await startStackLambda({
        repoRoot: options.repoRoot,
        logDir,
        childEnv,
        clients,
        topology,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        ...options.lambda,
      }).catch((error: unknown) => {
        throw asListenError(ports.lambda, error);
      });
      const runtime = lambda;
      started.push(() => runtime.close());
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
    started.push(() => api.stop());
    // Tasks start four at a time, about a CPU-second each: a large initial fleet gets longer.
    const tasksReady = supervisorReady(
      supervisor,
      options.workerTasks,
      logDir,
      START_TIMEOUT_MS + 2000 * Math.max(0, options.workerTasks - 4),
    );
    supervisor.start();

    let prometheus: LocalPrometheus | undefined;
    let prometheusProcess: PrometheusProcess | undefined;
    if (options.prometheus && prometheusFiles) {
      prometheus = { configFile: prometheusFiles.configFile };
      if (!prometheusBinary) {
        prometheus.notRunning = "no `prometheus` binary on the PATH";
      } else {
        prometheus.binary = prometheusBinary;
        prometheusProcess = await startPrometheus({
          binary: prometheusBinary,
          configFile: prometheusFiles.configFile,
          storageDir: join(options.dataDir, "prometheus/data"),
          port: options.prometheus.port,
          logFile: join(logDir, "prometheus.log"),
        }).catch((error: unknown) => {
          const first = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
          throw /address already in use/.test(first)
            ? asListenError(ports.prometheus, { code: "EADDRINUSE" })
            : new Error(`Prometheus could not start: ${first}; see ${join(logDir, "prometheus.log")}`);
        });
        const running = prometheusProcess;
        started.push(() => running.stop());
        prometheus.url = prometheusProcess.url;
      }
    }

    let opsConsole: LocalConsole | undefined;
    let consoleReady: Promise<void> | undefined;
    if (options.console) {
      if (!runConsole) {
        opsConsole = {
          notRunning: "web/.next/standalone is missing: run `npm run build` (npm start does it for you)",
        };
      } else {
        const url = `http://127.0.0.1:${options.console.port}`;
        const service = new Service({
          name: "console",
          script: consoleScript,
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
            // Kept in DATA_DIR (unless set): a console crash or an `npm start` restart keeps everyone signed in.
            SESSION_SECRET: process.env.SESSION_SECRET || keptSecret(sessionSecretFile(options.dataDir), 32, 32).value,
            ...(options.console.grafanaUrl && { GRAFANA_URL: options.console.grafanaUrl }),
            // The alerts' "source" links open the rule's graph in the Prometheus this stack runs.
            ...(prometheus?.url && { PROMETHEUS_URL: prometheus.url }),
          },
          logDir,
        });
        service.start();
        started.push(() => service.stop());
        consoleReady = service
          .whenReady(() => answers(`${url}/sign-in`), START_TIMEOUT_MS)
          .catch((error: unknown) => {
            throw asListenError(ports.console, error);
          });
        opsConsole = { url, service };
      }
    }

    // Print "running" only when it is: every child listens, the API answers /health (store and
    // queue reachable), and the first worker tasks are ready. The first failure stops the start-up.
    const apiReady = api
      .whenReady(() => answers(`http://127.0.0.1:${options.apiPort}/health`, true), START_TIMEOUT_MS)
      .catch((error: unknown) => {
        throw asListenError(ports.api, error);
      });
    await firstFailure([apiReady, tasksReady, ...(consoleReady ? [consoleReady] : [])]);

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
}

/** How long a child may take to listen (and the API to answer /health) before the start-up fails. */
const START_TIMEOUT_MS = 60_000;

/** Whether `url` answers at all (any status), or with a 2xx when `ok` is asked for. */
async function answers(url: string, ok = false): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: "manual" });
  await res.body?.cancel();
  return ok ? res.ok : true;
}

/** Resolves when all do; rejects with the first rejection, without waiting for (or leaving unhandled) the others. */
async function firstFailure(all: Promise<unknown>[]): Promise<void> {
  for (const p of all) p.catch(() => {});
  await Promise.all(all);
}

/**
 * Resolves once `count` worker tasks are ready (listening on their metrics port, polling the queue);
 * rejects when a task exits before it is ready, naming its log, or after `timeoutMs`.
 */
function supervisorReady(supervisor: TaskSupervisor, count: number, logDir: string, timeoutMs: number): Promise<void> {
  if (count === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const ready = new Set<string>();
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${count - ready.size} worker task(s) not ready within ${timeoutMs / 1000} s; see ${logDir}`));
    }, timeoutMs);
    timer.unref();
    const onReady = (task: { taskId: string }) => {
      ready.add(task.taskId);
      if (ready.size >= count) {
        done();
        resolve();
      }
    };
    const onExit = ({
      taskId,
      code,
      signal,
    }: {
      taskId: string;
      code: number | null;
      signal: NodeJS.Signals | null;
    }) => {
      if (ready.has(taskId)) return;
      done();
      reject(
        new Error(
          `worker task ${taskId} exited during start-up (${signal ?? `exit ${code}`}); see ${join(logDir, `worker-${taskId}.log`)}`,
        ),
      );
    };
    const done = () => {
      clearTimeout(timer);
      supervisor.off("task-ready", onReady);
      supervisor.off("task-exited", onExit);
    };
    supervisor.on("task-ready", onReady);
    supervisor.on("task-exited", onExit);
  });
}
