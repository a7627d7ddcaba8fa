/** The local stack a benchmark starts for itself: `startStack` on a random API port with a fresh operator token. */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createAwsClients, OrderQueue } from "@surge/core";
import { type Stack, type StackOptions, startStack } from "@surge/local/stack";
import { freePort } from "@surge/testing";

export const repoRoot = resolve(import.meta.dirname, "../..");

const BUNDLES = ["api/dist/main.js", "worker/dist/main.js"];

/** Throws unless the API and worker bundles the stack runs are built. */
export function requireBundles(root: string): void {
  for (const bundle of BUNDLES) {
    if (!existsSync(join(root, bundle))) throw new Error(`${bundle} is missing: run \`npm run build\``);
  }
}

/** Builds the API and worker bundles (turbo's cache makes this quick when nothing changed). */
export function buildBundles(): void {
  const out = spawnSync(
    "npx",
    ["turbo", "run", "build", "--filter=@surge/api", "--filter=@surge/worker", "--output-logs=errors-only"],
    { cwd: repoRoot, stdio: "inherit" },
  );
  if (out.status !== 0) throw new Error("building the API and worker bundles failed");
}

interface BenchStackOptions
  extends Pick<StackOptions, "repoRoot" | "dataDir" | "workerTasks" | "workerConcurrency" | "env" | "supervisor"> {
  /** The topic's and the queue's name; the DLQ is `<name>-dlq`. */
  name: string;
  /** Default: `workerTasks`, at least 1. */
  maxWorkerTasks?: number;
  /** Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Default 5. */
  maxReceiveCount?: number;
}

interface BenchStack {
  stack: Stack;
  /** The API's operator token, for /ops. */
  opsToken: string;
  /** The stack's order queue, read through the emulator (its depth). */
  queue: OrderQueue;
  /** Stops the stack and the queue's clients. */
  close(): Promise<void>;
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const opsToken = randomBytes(24).toString("base64url");
  const stack = await startStack({
    repoRoot: options.repoRoot,
    dataDir: options.dataDir,
    emulatorPort: 0,
    apiPort: await freePort(),
    opsToken,
    workerTasks: options.workerTasks,
    workerConcurrency: options.workerConcurrency,
    maxWorkerTasks: options.maxWorkerTasks ?? Math.max(1, options.workerTasks),
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    maxReceiveCount: options.maxReceiveCount ?? 5,
    names: { topic: options.name, queue: options.name, dlq: `${options.name}-dlq` },
    env: options.env,
    ...(options.supervisor && { supervisor: options.supervisor }),
  });
  const clients = createAwsClients({
    endpoint: stack.emulatorUrl,
    region: "us-east-1",
    credentials: { accessKeyId: "surge-local", secretAccessKey: "surge-local" },
  });
  return {
    stack,
    opsToken,
    queue: new OrderQueue(clients.sqs, stack.topology.queueUrl, stack.topology.dlqUrl),
    async close() {
      await stack.close();
      clients.sqs.destroy();
      clients.sns.destroy();
    },
  };
}

interface RunOptions {
  repoRoot: string;
  databaseUrl?: string | undefined;
  log?: (line: string) => void;
}

/** A run's options as its report keeps them: no repo root, log or database URL (it may hold a password), but the store's kind. */
export type ReportedOptions<O extends RunOptions> = Omit<O, keyof RunOptions> & { store: "sqlite" | "postgres" };

export function reportedOptions<O extends RunOptions>(options: O): ReportedOptions<O> {
  const { repoRoot: _root, databaseUrl, log: _log, ...kept } = options;
  return { ...kept, store: databaseUrl ? "postgres" : "sqlite" };
}
