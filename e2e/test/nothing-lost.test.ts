import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createApi } from "@surge/api/app";
import { createLogger, OrderQueue, OrderTopic } from "@surge/core";
import { TaskSupervisor } from "@surge/local/supervisor";
import {
  BROKERS,
  brokerSuite,
  createTestTopology,
  tempSqliteStore,
  validOrder,
  waitFor,
  workerEnv,
} from "@surge/testing";
import { beforeAll, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");
const workerBundle = join(repoRoot, "worker/dist/main.js");

// On both brokers: fauxqs, and moto as a second implementation of SQS (docs/testing.md#two-brokers).
describe.each(BROKERS)("nothing is lost when a worker task is killed with SIGKILL mid-payment: %s", (name) => {
  beforeAll(() => {
    if (!existsSync(workerBundle)) throw new Error("worker/dist/main.js is missing: run `npx turbo run build` first");
  });
  const suite = brokerSuite(name);

  it("every accepted order ends paid exactly once, none stuck", async () => {
    const { broker } = suite;
    const t = tempSqliteStore();
    // A short visibility timeout so the killed task's messages come back within the test.
    const topology = await createTestTopology(broker, { visibilityTimeoutSeconds: 3, maxReceiveCount: 10 });
    const api = createApi({
      store: t.store,
      queue: new OrderQueue(broker.clients.sqs, topology.queueUrl, topology.dlqUrl),
      topic: new OrderTopic(broker.clients.sns, topology.topicArn),
      log: createLogger({}, { write: () => {} }),
      opsTokens: [],
      payment: { slots: 5, durationMs: 50, failureRate: 0 },
      outbox: { pollIntervalMs: 20 },
    });
    api.start();
    const supervisor = new TaskSupervisor({
      script: workerBundle,
      env: workerEnv(broker, topology, t.dataDir, {
        PAYMENT_DURATION_MS: "150",
        VISIBILITY_TIMEOUT_SECONDS: "3",
        MAX_RECEIVE_COUNT: "10",
      }),
      desiredCount: 2,
      concurrency: 10,
      logDir: join(t.dataDir, "logs"),
      stopTimeoutMs: 10_000,
    });
    const server = api.app.listen(0, "127.0.0.1");
    try {
      await new Promise((r) => server.once("listening", r));
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      supervisor.start();
      await waitFor(() => supervisor.snapshot().running === 2, { what: "2 tasks running" });

      const total = 300;
      const accepted: string[] = [];
      let killed = false;
      for (let i = 0; i < total; i += 25) {
        const batch = await Promise.all(
          Array.from({ length: 25 }, async () => {
            const res = await fetch(`${url}/orders/async`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(validOrder()),
            });
            expect(res.status).toBe(202);
            return ((await res.json()) as { orderId: string }).orderId;
          }),
        );
        accepted.push(...batch);
        if (!killed && i >= 100) {
          // Wait until a task is mid-payment, then kill -9 it.
          const victim = await waitFor(() => supervisor.snapshot().tasks.find((task) => task.inFlight > 0), {
            what: "a task with orders in flight",
          });
          expect(supervisor.signalTask(victim.taskId, "SIGKILL")).toBe(true);
          killed = true;
        }
      }
      await waitFor(() => supervisor.snapshot().restarts >= 1 && supervisor.snapshot().running === 2, {
        what: "the killed task replaced",
      });
      const settled = await waitFor(
        async () => {
          const r = await t.store.reconcile();
          return r.byStatus.paid === total ? r : undefined;
        },
        { what: `all ${total} orders paid`, timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(accepted).toHaveLength(total);
      expect(new Set(accepted).size).toBe(total);
      expect(settled).toMatchObject({
        accepted: total,
        inProgress: 0,
        charges: total,
        paidTwice: 0,
        paidWithoutCharge: 0,
        outboxPending: 0,
      });
      expect(settled.byStatus.dead).toBe(0);
      // Some orders were taken by the killed task and went round again.
      const retried = await Promise.all(accepted.map((id) => t.store.getOrder(id)));
      expect(retried.some((o) => (o?.attempts ?? 0) > 1)).toBe(true);
    } finally {
      await supervisor.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await api.close();
      await t.remove();
    }
  });
});
