import type { AddressInfo } from "node:net";
import { createLogger, OrderQueue, type OrderStore, OrderTopic } from "@surge/core";
import { createTestTopology, type Emulator, startEmulator, tempSqliteStore } from "@surge/testing";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { type ApiDeps, createApi } from "../src/app.js";
import type { Fleet, FleetState } from "../src/fleet/types.js";
import { hardenServer } from "../src/http/server.js";

export const OPS_TOKEN = "test-operator-token-0123456789";
export const silentLog = createLogger({ service: "test" }, { write: () => {} });

/** A running API on a random port against a real emulator topology and a real store. */
export async function startTestApi(
  store: OrderStore,
  emulator: Emulator,
  overrides: Partial<ApiDeps> & {
    maxReceiveCount?: number;
    visibilityTimeoutSeconds?: number;
    lambdaQueue?: boolean;
  } = {},
) {
  const topology = await createTestTopology(emulator, overrides);
  const queue = new OrderQueue(emulator.clients.sqs, topology.queueUrl, topology.dlqUrl);
  const api = createApi({
    store,
    queue,
    topic: new OrderTopic(emulator.clients.sns, topology.topicArn),
    log: silentLog,
    opsTokens: [{ token: OPS_TOKEN, label: "test-operator", role: "operator" }],
    payment: { slots: 5, durationMs: 20, failureRate: 0 },
    outbox: { pollIntervalMs: 20 },
    ...overrides,
  });
  api.start();
  const server = api.app.listen(0, "127.0.0.1");
  hardenServer(server);
  await new Promise((r) => server.once("listening", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    api,
    url,
    queue,
    topology,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await api.close();
    },
  };
}

/** A scheduler that starts tasks the moment they are asked for, for tests about the ops plane. */
export class InstantFleet implements Fleet {
  readonly kind = "local" as const;
  state: FleetState;
  constructor(state: Partial<FleetState> = {}) {
    this.state = {
      desiredCount: 1,
      running: 1,
      pending: 0,
      stopping: 0,
      concurrency: 5,
      restarts: 0,
      tasks: [],
      ...state,
    };
  }
  async describe() {
    return { ...this.state };
  }
  async setDesiredCount(count: number) {
    this.state = { ...this.state, desiredCount: count, running: count };
    return this.describe();
  }
  async setConcurrency(concurrency: number) {
    this.state = { ...this.state, concurrency };
    return this.describe();
  }
}

type TestApi = Awaited<ReturnType<typeof startTestApi>>;
interface TestStore {
  store: OrderStore;
  remove(): Promise<void>;
}
type TestApiDeps = (store: OrderStore) => Parameters<typeof startTestApi>[2];

/**
 * For a describe block: one emulator, and a fresh store and API for each test. `deps` adds to the
 * API's dependencies (it runs before each test, with that test's store).
 */
export function apiPerTest(deps: TestApiDeps = () => ({})) {
  return testApiHooks("each", deps, tempSqliteStore);
}

/** For a describe block: one emulator, store and API shared by all its tests. */
export function apiForAll(deps: TestApiDeps = () => ({}), makeStore: () => TestStore = tempSqliteStore) {
  return testApiHooks("all", deps, makeStore);
}

function testApiHooks(scope: "each" | "all", deps: TestApiDeps, makeStore: () => TestStore) {
  const ctx = {} as { emulator: Emulator; t: TestStore; api: TestApi };
  beforeAll(async () => {
    ctx.emulator = await startEmulator();
  });
  afterAll(async () => {
    await ctx.emulator?.stop();
  });
  (scope === "each" ? beforeEach : beforeAll)(async () => {
    ctx.t = makeStore();
    ctx.api = await startTestApi(ctx.t.store, ctx.emulator, deps(ctx.t.store));
  });
  (scope === "each" ? afterEach : afterAll)(async () => {
    await ctx.api?.close();
    await ctx.t?.remove();
  });
  return ctx;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json as Record<string, unknown> };
}

/** An operator's call to the API at `baseUrl()`: JSON in and out, `OPS_TOKEN` unless another token (or null) is given. */
export function opsCaller(baseUrl: () => string) {
  return async (method: string, path: string, body?: unknown, token: string | null = OPS_TOKEN) => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token !== null && { authorization: `Bearer ${token}` }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: tests read fields of the JSON answers they asked for
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
}
