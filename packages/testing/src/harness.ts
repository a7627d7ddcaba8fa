/**
 * Test harness shared by every package's integration tests: a real fauxqs
 * emulator in-process, a unique topology per test, real SQLite in a temp dir,
 * real PostgreSQL with a schema per test. Import as "@surge/testing".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAwsClients, ensureTopology, PostgresOrderStore, SqliteOrderStore, type Topology } from "@surge/core";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import type {} from "vitest";
import { startMoto } from "./moto.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL server for this test run (packages/testing/src/postgres-setup.ts): each test uses its own schema. */
    postgresUrl: string;
  }
}

/** The SNS/SQS implementations Surge's queue code is tested against (docs/testing.md#two-brokers). */
export type BrokerName = "fauxqs" | "moto";
export const BROKERS: readonly BrokerName[] = ["fauxqs", "moto"];

/** A running SNS/SQS server on loopback, with SDK clients and a child process's environment for it. */
export interface Broker {
  name: BrokerName;
  url: string;
  clients: ReturnType<typeof createAwsClients>;
  /** Environment for a child process that should talk to this broker. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** fauxqs, in process: the default broker of the test suite and of `npm start`. */
export interface Emulator extends Broker {
  name: "fauxqs";
  server: FauxqsServer;
}

/** The standard AWS SDK environment that points a child process at an emulator on `url`. */
export function emulatorEnv(url: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

export async function startEmulator(): Promise<Emulator> {
  const server = await startFauxqs({ port: 0, logger: false });
  const url = `http://127.0.0.1:${server.port}`;
  const credentials = { accessKeyId: "surge-test", secretAccessKey: "surge-test" };
  return {
    name: "fauxqs",
    url,
    server,
    clients: createAwsClients({ endpoint: url, region: "us-east-1", credentials }),
    env: emulatorEnv(url, credentials),
    stop: () => server.stop(),
  };
}

/**
 * Starts the named broker: fauxqs in process, or `moto_server` (moto 5, a second independent
 * implementation of the SNS/SQS wire protocols) on a random loopback port. moto keeps its state
 * for the server's life: one server per test file, with unique names per test (`uniqueName`).
 */
export async function startBroker(name: BrokerName): Promise<Broker> {
  if (name === "fauxqs") return startEmulator();
  const moto = await startMoto();
  const { endpoint, credentials, region } = moto.clientConfig;
  const clients = createAwsClients(moto.clientConfig);
  return {
    name,
    url: endpoint,
    clients,
    env: { ...emulatorEnv(endpoint, credentials), AWS_REGION: region },
    stop: async () => {
      clients.sqs.destroy();
      clients.sns.destroy();
      await moto.stop();
    },
  };
}

let seq = 0;
export function uniqueName(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

/** A fresh topic → queue (+ DLQ) for one test. */
export async function createTestTopology(
  emulator: Pick<Broker, "clients">,
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number; lambdaQueue?: boolean } = {},
): Promise<Topology & { names: { topic: string; queue: string; dlq: string } }> {
  const base = uniqueName("orders");
  const names = { topic: base, queue: base, dlq: `${base}-dlq` };
  const topology = await ensureTopology(emulator.clients, names, {
    maxReceiveCount: options.maxReceiveCount ?? 5,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    // The Lambda subscription's queue, with both subscriptions filtering on the route, as npm start has it.
    ...(options.lambdaQueue && { lambdaQueue: `${base}-lambda` }),
  });
  return { ...topology, names };
}

export function tempDir(prefix = "surge-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function tempSqliteStore(): { store: SqliteOrderStore; dataDir: string; remove(): Promise<void> } {
  const dir = tempDir();
  const store = new SqliteOrderStore(join(dir.path, "surge.db"));
  return {
    store,
    dataDir: dir.path,
    remove: async () => {
      await store.close();
      dir.remove();
    },
  };
}

export function tempPostgresStore(url: string): { store: PostgresOrderStore; schema: string; remove(): Promise<void> } {
  const schema = uniqueName("s").replace(/[^a-z0-9_]/g, "_");
  const store = new PostgresOrderStore(url, { schema });
  return {
    store,
    schema,
    remove: async () => {
      await store.close();
      const { default: pg } = await import("pg");
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  { timeoutMs = 20_000, intervalMs = 50, what = "condition" } = {},
): Promise<Exclude<T, undefined | null | false | 0 | "">> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Exclude<T, undefined | null | false | 0 | "">;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const validOrder = (overrides: Record<string, unknown> = {}) => ({
  customerId: 42,
  items: [{ productId: "sku-1", quantity: 2, price: 19.99 }],
  ...overrides,
});
