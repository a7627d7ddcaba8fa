import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createAwsClients, ensureTopology, type Topology } from "@surge/core";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { Service } from "./service.js";
import { TaskSupervisor } from "./supervisor.js";

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
}

export interface Stack {
  emulatorUrl: string;
  apiUrl: string;
  topology: Topology;
  supervisor: TaskSupervisor;
  api: Service;
  logDir: string;
  close(): Promise<void>;
}

/** The AWS SDK configuration every local child uses: standard variables, emulator endpoint. */
export function awsLocalEnv(emulatorUrl: string): NodeJS.ProcessEnv {
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
  const emulator: FauxqsServer = await startFauxqs({ port: options.emulatorPort, logger: false });
  const emulatorUrl = `http://127.0.0.1:${emulator.port}`;
  const aws = awsLocalEnv(emulatorUrl);
  const clientConfig = {
    endpoint: emulatorUrl,
    region: "us-east-1",
    credentials: { accessKeyId: "surge-local", secretAccessKey: "surge-local" },
  };
  const topology = await ensureTopology(createAwsClients(clientConfig), options.names, {
    maxReceiveCount: options.maxReceiveCount,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
  });
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
  });
  const api = new Service({
    name: "api",
    script: join(options.repoRoot, "api/dist/main.js"),
    env: { ...childEnv, PORT: String(options.apiPort), HOST: "127.0.0.1" },
    logDir,
  });
  api.start();
  supervisor.start();

  let closing: Promise<void> | undefined;
  return {
    emulatorUrl,
    apiUrl: `http://127.0.0.1:${options.apiPort}`,
    topology,
    supervisor,
    api,
    logDir,
    close() {
      closing ??= (async () => {
        await Promise.allSettled([api.stop(), supervisor.close()]);
        await emulator.stop();
      })();
      return closing;
    },
  };
}
