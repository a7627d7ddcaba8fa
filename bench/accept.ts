/**
 * Accept-path benchmark (issue 2): the bare-Express ceiling (a route that does
 * nothing) and POST /orders/async under the same load in the same run —
 * autocannon, 50 connections — plus the outbox-to-queue lag.
 *
 *   node --import tsx bench/accept.ts [--seconds 10] [--connections 50] [--postgres URL]
 *
 * Targets: async throughput ≥ 50% of the ceiling, p99 ≤ 20 ms, outbox lag p99 ≤ 100 ms.
 */
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { createApi } from "@surge/api/app";
import { PublisherThread } from "@surge/api/publisher-thread";
import { createLogger, ensureTopology, OrderQueue, type OrderStore, PostgresOrderStore } from "@surge/core";
import { tempSqliteStore, validOrder } from "@surge/testing";
import autocannon from "autocannon";
import express from "express";
import { startEmulatorProcess } from "./lib/emulator-process.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    postgres: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const body = JSON.stringify(validOrder());

interface Result {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function load(name: string, url: string): Promise<Result> {
  const r = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections,
    duration: seconds,
    workers: 1, // the load generator gets its own thread, the server keeps the main one
  });
  return {
    name,
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

async function listen(app: express.Express) {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// 1. The ceiling: Express with a route that does nothing.
const bare = express();
bare.post("/noop", (_req, res) => {
  res.status(202).json({ status: "queued" });
});
const bareServer = await listen(bare);
await load("warm-up", `${bareServer.url}/noop`);
const ceiling = await load("bare Express (no-op route)", `${bareServer.url}/noop`);
bareServer.server.close();

// 2. The real accept path: validate, write order + outbox row, 202; the relay publishes to SNS → SQS.
const emulator = await startEmulatorProcess();
const topology = await ensureTopology(
  emulator.clients,
  { topic: "bench-orders", queue: "bench-orders", dlq: "bench-orders-dlq" },
  { maxReceiveCount: 5, visibilityTimeoutSeconds: 30 },
);
const sqlite = values.postgres ? undefined : tempSqliteStore();
const store: OrderStore = values.postgres
  ? new PostgresOrderStore(values.postgres, { schema: `bench_${Date.now()}` })
  : (sqlite?.store as OrderStore);
// As api/src/main.ts wires it: SNS calls on their own thread.
const publisher = new PublisherThread({ topicArn: topology.topicArn, env: emulator.env });
const api = createApi({
  store,
  queue: new OrderQueue(emulator.clients.sqs, topology.queueUrl, topology.dlqUrl),
  topic: publisher,
  log: createLogger({}, { write: () => {} }),
  opsTokens: [],
  payment: { slots: 5, durationMs: 3000, failureRate: 0 },
});
// Record every outbox lag exactly (the histogram's buckets are too coarse for a p99 target).
const lagsMs: number[] = [];
const observe = api.metrics.publishLatency.observe.bind(api.metrics.publishLatency);
api.metrics.publishLatency.observe = ((value: number) => {
  lagsMs.push(value * 1000);
  observe(value);
}) as typeof api.metrics.publishLatency.observe;
api.start();
const apiServer = await listen(api.app);
await load("warm-up", `${apiServer.url}/orders/async`);
lagsMs.length = 0;
const accepted = await load(`POST /orders/async (${store.kind})`, `${apiServer.url}/orders/async`);
// Let the relay finish what was accepted, then read the lag distribution.
for (let i = 0; i < 100 && (await store.outboxStats()).pending > 0; i++) await new Promise((r) => setTimeout(r, 100));
const outbox = await store.outboxStats();
lagsMs.sort((a, b) => a - b);
const pct = (p: number) => lagsMs[Math.min(lagsMs.length - 1, Math.floor((p / 100) * lagsMs.length))] ?? Number.NaN;

const ratio = accepted.requestsPerSecond / ceiling.requestsPerSecond;
const rows = [ceiling, accepted];
console.log(
  `\nAccept path, ${connections} connections, ${seconds} s each, API in one process, emulator in another, ${new Date().toISOString()}\n`,
);
console.log("| run | req/s | p50 ms | p99 ms | non-2xx | errors |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms} | ${r.p99Ms} | ${r.non2xx} | ${r.errors} |`,
  );
}
console.log(`\nasync / ceiling = ${(ratio * 100).toFixed(1)}% (target ≥ 50%)`);
console.log(`async p99 = ${accepted.p99Ms} ms (target ≤ 20 ms)`);
console.log(
  `outbox → SNS lag over ${lagsMs.length} orders: p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${(lagsMs.at(-1) ?? 0).toFixed(1)} ms (target p99 ≤ 100 ms); still pending: ${outbox.pending}`,
);

apiServer.server.closeAllConnections();
apiServer.server.close();
await api.close();
await publisher.close();
await emulator.stop();
if (sqlite) await sqlite.remove();
else await store.close();
