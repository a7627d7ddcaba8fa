import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage } from "@surge/core";
import { loadEnv } from "./env.js";
import { keptOpsToken } from "./kept-secrets.js";
import { startStack } from "./stack.js";

/** `npm start`: the whole local stack on embedded defaults, no AWS account needed. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
let env: ReturnType<typeof loadEnv>;
try {
  env = loadEnv();
} catch (error) {
  console.error(errorMessage(error));
  process.exit(2);
}
const bundles = ["api/dist/main.js", "worker/dist/main.js"];
if (env.LAMBDA_ENABLED) bundles.push("worker/dist/lambda.js", "infra/lambda-runtime/dist/bootstrap.js");
for (const bundle of bundles) {
  if (!existsSync(join(repoRoot, bundle))) {
    console.error(`${bundle} is missing: run \`npm run build\` first (npm start does it for you).`);
    process.exit(2);
  }
}
// OPS_TOKEN wins; without it the token is kept in DATA_DIR, so a restart signs no browser out.
const kept = env.OPS_TOKEN ? undefined : keptOpsToken(env.DATA_DIR);
const opsToken = env.OPS_TOKEN ?? kept?.token ?? "";

const stack = await startStack({
  repoRoot,
  dataDir: env.DATA_DIR,
  emulatorPort: env.EMULATOR_PORT,
  apiPort: env.PORT,
  opsToken,
  workerTasks: env.WORKER_TASKS,
  workerConcurrency: env.WORKER_CONCURRENCY,
  maxWorkerTasks: env.MAX_WORKER_TASKS,
  visibilityTimeoutSeconds: env.VISIBILITY_TIMEOUT_SECONDS,
  maxReceiveCount: env.MAX_RECEIVE_COUNT,
  names: { topic: env.ORDERS_TOPIC, queue: env.ORDERS_QUEUE, dlq: env.ORDERS_DLQ },
  env: {},
  fleetControlPort: env.FLEET_CONTROL_PORT,
  prometheus: { port: env.PROMETHEUS_PORT },
  console: { port: env.WEB_PORT, grafanaUrl: env.GRAFANA_URL },
  ...(env.LAMBDA_ENABLED && {
    lambda: {
      controlPort: env.LAMBDA_CONTROL_PORT,
      reservedConcurrency: env.LAMBDA_RESERVED_CONCURRENCY,
      memoryMb: env.LAMBDA_MEMORY_MB,
      timeoutSeconds: env.LAMBDA_TIMEOUT_SECONDS,
      idleTimeoutSeconds: env.LAMBDA_IDLE_TIMEOUT_SECONDS,
    },
  }),
}).catch((error: unknown) => {
  // startStack has stopped whatever it had started: nothing is left behind.
  console.error(`surge: could not start the local stack: ${errorMessage(error)}`);
  process.exit(1);
});

/** Who sets the task count now: a policy saved by an earlier run overrides WORKER_TASKS. */
async function workersLine(): Promise<string> {
  const configured = `${env.WORKER_TASKS} task(s) × concurrency ${env.WORKER_CONCURRENCY}`;
  try {
    const res = await fetch(`${stack.apiUrl}/ops/autoscaling`, {
      headers: { authorization: `Bearer ${opsToken}` },
      signal: AbortSignal.timeout(2000),
    });
    const policy = (await res.json()) as { enabled?: boolean; minTasks?: number; maxTasks?: number };
    if (res.ok && policy.enabled)
      return `the autoscaler sets the count (${policy.minTasks}–${policy.maxTasks} tasks, a policy kept in DATA_DIR), concurrency ${env.WORKER_CONCURRENCY}; WORKER_TASKS=${env.WORKER_TASKS} only started them`;
  } catch {
    // The banner falls back to the configured count; the console shows the live owner.
  }
  return `${configured}, set by the operator (PUT /ops/fleet or the console)`;
}

const line = (label: string, value: string) => console.log(`  ${label.padEnd(14)} ${value}`);
// Asked before the banner starts, so the banner prints in one go.
const workers = await workersLine();
console.log("\nSurge is running (Ctrl-C stops everything)\n");
if (stack.console?.url) line("console", `${stack.console.url} (sign in with the operator token below)`);
else if (stack.console) line("console", `not running: ${stack.console.notRunning}`);
line("API", stack.apiUrl);
line("metrics", `${stack.apiUrl}/metrics`);
line("SNS/SQS", `${stack.emulatorUrl} (fauxqs)`);
line("queue", stack.topology.queueUrl);
line("workers", workers);
line("fleet control", `${stack.fleetControl.url} (loopback; the API's stand-in for the ECS API)`);
if (stack.lambda) {
  const fn = stack.lambda.fn;
  line("Lambda", `${fn.functionName}: ${fn.memoryMb} MB, reserved concurrency ${fn.reservedConcurrency}`);
  line("", `${stack.lambda.control.url} (state, REPORT lines, /metrics); route orders: PUT /ops/processing`);
}
line("store", env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : `SQLite ${join(env.DATA_DIR, "surge.db")}`);
line("logs", stack.logDir);
if (stack.prometheus?.url) {
  line("Prometheus", `${stack.prometheus.url} (alerts go to the console: GET /ops/alerts)`);
} else if (stack.prometheus) {
  line("Prometheus", `not running: ${stack.prometheus.notRunning}`);
  line("", `its config is in ${stack.prometheus.configFile}; \`docker compose -f grafana/compose.yaml up\``);
  line("", "runs Prometheus and Grafana with it (see docs/observability.md)");
}
if (kept) {
  line("operator token", opsToken);
  line("", `${kept.created ? "new, kept" : "kept"} in ${kept.file} (delete it for a new one; OPS_TOKEN overrides it)`);
} else {
  line("operator token", "(from OPS_TOKEN)");
}
if (env.extraOpsTokenLabels.length > 0)
  line("more tokens", `${env.extraOpsTokenLabels.join(", ")} (OPS_TOKENS, OPS_READONLY_TOKENS)`);
console.log(
  `\nTry:\n  curl -si -X POST ${stack.apiUrl}/orders/async -H 'content-type: application/json' \\\n` +
    `    -d '{"customerId":1,"items":[{"productId":"tv","quantity":1,"price":499}]}'\n`,
);

stack.supervisor.on("task-exited", ({ taskId, code, signal, expected }) => {
  if (!expected) console.log(`surge: worker task ${taskId} died (${signal ?? `exit ${code}`}); replacing it`);
});
stack.api.options.onExit = (code, signal) => {
  if (!stopping) console.log(`surge: API exited (${signal ?? `exit ${code}`}); restarting it`);
};

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) {
    console.log("surge: forced exit");
    process.exit(1);
  }
  stopping = true;
  console.log(
    `\nsurge: ${signal}: stopping the API, ${stack.supervisor.snapshot().tasks.length} worker task(s) and the emulator…`,
  );
  await stack.close();
  console.log("surge: stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
