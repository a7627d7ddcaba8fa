/**
 * Real worker tasks for fleet tests (the worker bundled fresh from source, never a stale dist/),
 * and orders put on the queue the way the outbox relay does.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { newOrderId, type Order, type OrderItem, type OrderStore, totalCents } from "@surge/core";
import { build } from "esbuild";
import type { createTestTopology, Emulator } from "./harness.js";

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
  emulator: Pick<Emulator, "env">,
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
 * Accepts one async order straight into the store with the outbox off, as a test or benchmark
 * does when it publishes the message itself (the relay is the API's, tested there).
 */
export async function acceptOrderInStore(
  store: OrderStore,
  {
    customerId = 1,
    items = [{ productId: "tv", quantity: 1, price: 499 }],
  }: { customerId?: number; items?: OrderItem[] } = {},
): Promise<Order> {
  const acceptedAtMs = Date.now();
  const { order } = await store.acceptOrder(
    {
      orderId: newOrderId(acceptedAtMs),
      customerId,
      items,
      totalCents: totalCents(items),
      mode: "async",
      acceptedAtMs,
    },
    { outbox: false },
  );
  return order;
}

/** The message body the outbox relay publishes for an order. */
export function orderMessageBody(order: Pick<Order, "orderId" | "acceptedAt">): string {
  return JSON.stringify({ orderId: order.orderId, acceptedAt: order.acceptedAt });
}

/** Accepts `count` async orders in the store and puts their messages on the queue, as the outbox relay would. */
export async function enqueueOrders(
  store: OrderStore,
  emulator: Pick<Emulator, "clients">,
  queueUrl: string,
  count: number,
): Promise<string[]> {
  const orders: Order[] = [];
  for (let i = 0; i < count; i++) orders.push(await acceptOrderInStore(store, { customerId: 1 + i }));
  for (let i = 0; i < orders.length; i += 10) {
    await emulator.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: orders.slice(i, i + 10).map((order, j) => ({ Id: String(j), MessageBody: orderMessageBody(order) })),
      }),
    );
  }
  return orders.map((o) => o.orderId);
}
