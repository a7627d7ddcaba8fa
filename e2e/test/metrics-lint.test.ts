import { spawnSync } from "node:child_process";
import { postJson, startTestApi } from "@surge/api/testing";
import { createLogger, OrderQueue } from "@surge/core";
import { createTestTopology, type Emulator, startEmulator, tempSqliteStore, validOrder } from "@surge/testing";
import { createWorker } from "@surge/worker/app";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** `promtool check metrics` reads an exposition on stdin and lists every convention it breaks. */
function promtoolCheck(exposition: string): { status: number | null; output: string } {
  const run = spawnSync("promtool", ["check", "metrics"], { input: exposition, encoding: "utf8" });
  if (run.error) throw new Error(`promtool is not installed (apt-get install prometheus): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

describe("metrics follow the Prometheus conventions (promtool check metrics)", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it("the API's /metrics is clean after real traffic", async () => {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, emulator);
    try {
      await postJson(`${api.url}/orders/async`, validOrder());
      await postJson(`${api.url}/orders/sync`, validOrder());
      await postJson(`${api.url}/orders/async`, "{broken");
      const text = await (await fetch(`${api.url}/metrics`)).text();
      expect(text).toContain("surge_orders_accepted_total");
      expect(promtoolCheck(text)).toEqual({ status: 0, output: "" });
    } finally {
      await api.close();
      await t.remove();
    }
  });

  it("a worker task's /metrics is clean", async () => {
    const t = tempSqliteStore();
    const topology = await createTestTopology(emulator);
    const worker = createWorker({
      store: t.store,
      queue: new OrderQueue(emulator.clients.sqs, topology.queueUrl, topology.dlqUrl),
      log: createLogger({}, { write: () => {} }),
      taskId: "lint",
      concurrency: 5,
      payment: { slots: 5, durationMs: 10, failureRate: 0 },
      waitTimeSeconds: 1,
    });
    const port = await worker.start(0, "127.0.0.1");
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain("surge_worker_orders_processed_total");
      expect(promtoolCheck(text)).toEqual({ status: 0, output: "" });
    } finally {
      await worker.close(1000);
      await t.remove();
    }
  });
});
