import type { AddressInfo } from "node:net";
import { createLogger, OrderQueue, type OrderStore, OrderTopic } from "@surge/core";
import { createTestTopology, type Emulator } from "@surge/testing";
import { type ApiDeps, createApi } from "../src/app.js";
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
