/** The local stack for the fleet benchmarks, in a temp data dir; operators' calls go through /ops as a person's would. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteOrderStore } from "@surge/core";
import type { Stack } from "@surge/local/stack";
import { repoRoot, startBenchStack } from "./stack.js";

interface FleetStackOptions {
  paymentMs: number;
  slots: number;
  concurrency: number;
  workerTasks: number;
  maxWorkerTasks: number;
  /** Extra environment for the API and the workers. */
  env?: Record<string, string>;
}

interface FleetStack {
  stack: Stack;
  url: string;
  /** The order store, opened beside the API and the workers (SQLite in WAL mode takes readers). */
  store: SqliteOrderStore;
  dataDir: string;
  ops<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startFleetStack(options: FleetStackOptions): Promise<FleetStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "surge-bench-"));
  const bench = await startBenchStack({
    repoRoot,
    dataDir,
    name: "surge-orders",
    workerTasks: options.workerTasks,
    workerConcurrency: options.concurrency,
    maxWorkerTasks: options.maxWorkerTasks,
    env: {
      PAYMENT_DURATION_MS: String(options.paymentMs),
      PAYMENT_SLOTS: String(options.slots),
      LOG_LEVEL: "warn",
      ...options.env,
    },
    supervisor: { stopTimeoutMs: 30_000 },
  });
  const { stack, opsToken } = bench;
  const url = stack.apiUrl;
  const store = new SqliteOrderStore(join(dataDir, "surge.db"));
  return {
    stack,
    url,
    store,
    dataDir,
    async ops<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${url}/ops${path}`, {
        method,
        headers: { authorization: `Bearer ${opsToken}`, "content-type": "application/json" },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const json = (await res.json()) as T;
      if (!res.ok) throw new Error(`${method} /ops${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async close() {
      await bench.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Posts `count` orders to POST /orders/async, `parallel` at a time, and
 * resolves when all are answered 202 (the API records and publishes them).
 */
export async function postOrders(url: string, count: number, parallel = 16): Promise<void> {
  let next = 0;
  const body = JSON.stringify({ customerId: 7, items: [{ productId: "tv", quantity: 1, price: 499 }] });
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        next++;
        const res = await fetch(`${url}/orders/async`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await res.arrayBuffer();
        if (res.status !== 202) throw new Error(`POST /orders/async answered ${res.status}`);
      }
    }),
  );
}
