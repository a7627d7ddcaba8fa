/**
 * Real worker tasks for fleet tests: the worker bundled fresh from source (so
 * a test never runs a stale dist/), a unique topology, a real SQLite store
 * the tasks share, and helpers to put orders on the queue the way the outbox
 * relay does.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { newOrderId, type OrderStore, totalCents } from "@surge/core";
import type { createTestTopology, Emulator } from "@surge/testing";
import { build } from "esbuild";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

let bundled: Promise<string> | undefined;

/**
 * Bundles worker/src/main.ts once per test process, the way scripts/bundle.mjs
 * does, into node_modules/.cache (so `better-sqlite3` still resolves from the
 * repository's node_modules), and removes it when the process exits.
 */
export function workerScript(): Promise<string> {
  bundled ??= (async () => {
    const dir = join(repoRoot, "node_modules/.cache/surge-test");
    mkdirSync(dir, { recursive: true });
    const out = join(dir, `worker-${process.pid}.js`);
    await build({
      entryPoints: [join(repoRoot, "worker/src/main.ts")],
      outfile: `${out}.tmp`,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      logLevel: "warning",
      external: ["better-sqlite3", "pg-native", "fsevents"],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    renameSync(`${out}.tmp`, out);
    process.once("exit", () => {
      if (existsSync(out)) rmSync(out, { force: true });
    });
    return out;
  })();
  return bundled;
}

export type TestTopology = Awaited<ReturnType<typeof createTestTopology>>;

/** The environment a worker task needs to run against this emulator, topology and data dir. */
export function workerEnv(
  emulator: Emulator,
  topology: TestTopology,
  dataDir: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...emulator.env,
    DATA_DIR: dataDir,
    ORDERS_TOPIC: topology.names.topic,
    ORDERS_TOPIC_ARN: topology.topicArn,
    ORDERS_QUEUE: topology.names.queue,
    ORDERS_DLQ: topology.names.dlq,
    PAYMENT_DURATION_MS: "200",
    PAYMENT_SLOTS: "5",
    // Short long-polls so a stopping task notices at once; a short deadline so a stuck test ends.
    WAIT_TIME_SECONDS: "1",
    SHUTDOWN_DEADLINE_MS: "10000",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/**
 * Accepts `count` async orders in the store and puts their messages on the
 * queue, as the outbox relay would (the relay itself is the API's, tested there).
 */
export async function enqueueOrders(
  store: OrderStore,
  emulator: Emulator,
  queueUrl: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  const items = [{ productId: "tv", quantity: 1, price: 499 }];
  for (let i = 0; i < count; i++) {
    const acceptedAtMs = Date.now();
    const orderId = newOrderId(acceptedAtMs);
    await store.acceptOrder(
      { orderId, customerId: 1 + i, items, totalCents: totalCents(items), mode: "async", acceptedAtMs },
      { outbox: false },
    );
    ids.push(orderId);
  }
  for (let i = 0; i < ids.length; i += 10) {
    await emulator.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ids.slice(i, i + 10).map((orderId, j) => ({
          Id: String(j),
          MessageBody: JSON.stringify({ orderId, acceptedAt: new Date().toISOString() }),
        })),
      }),
    );
  }
  return ids;
}
