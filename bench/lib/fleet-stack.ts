/**
 * The whole local stack for the fleet benchmarks, started by the benchmark
 * itself on random ports in a temp data dir: emulator, API (with its fleet
 * and autoscaler), the task supervisor behind its control endpoint, real
 * worker processes, real SQLite. Operators' calls go through /ops like a
 * person's would.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SqliteOrderStore } from "@surge/core";
import { type Stack, startStack } from "@surge/local/stack";
import { freePort } from "@surge/testing";

export { freePort };

export const repoRoot = resolve(import.meta.dirname, "../..");

export interface FleetStackOptions {
  paymentMs: number;
  slots: number;
  concurrency: number;
  workerTasks: number;
  maxWorkerTasks: number;
  /** Extra environment for the API and the workers. */
  env?: Record<string, string>;
}

export interface FleetStack {
  stack: Stack;
  url: string;
  /** The order store, opened beside the API and the workers (SQLite in WAL mode takes readers). */
  store: SqliteOrderStore;
  dataDir: string;
  ops<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
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

export async function startFleetStack(options: FleetStackOptions): Promise<FleetStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "surge-bench-"));
  const opsToken = randomBytes(24).toString("base64url");
  const apiPort = await freePort();
  const stack = await startStack({
    repoRoot,
    dataDir,
    emulatorPort: 0,
    apiPort,
    opsToken,
    workerTasks: options.workerTasks,
    workerConcurrency: options.concurrency,
    maxWorkerTasks: options.maxWorkerTasks,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
    names: { topic: "surge-orders", queue: "surge-orders", dlq: "surge-orders-dlq" },
    env: {
      PAYMENT_DURATION_MS: String(options.paymentMs),
      PAYMENT_SLOTS: String(options.slots),
      LOG_LEVEL: "warn",
      ...options.env,
    },
    fleetControlPort: 0,
    supervisor: { stopTimeoutMs: 30_000 },
  });
  const url = stack.apiUrl;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the API did not become healthy; see ${stack.logDir}/api.log`);
    await new Promise((r) => setTimeout(r, 200));
  }
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
      await stack.close();
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
