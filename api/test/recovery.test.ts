/**
 * The broker loses messages (the in-memory emulator restarted, a queue purged outside Surge): the
 * store still has the orders, and the stale-order sweep publishes them again. And the publish path
 * stopped on purpose (PUT /ops/faults/publish): orders are still accepted and reach the queue after.
 */
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { emulatorSuite, tempSqliteStore, validOrder, waitFor } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { BacklogSource } from "../src/autoscaling/backlog.js";
import { ProcessingRouter } from "../src/lambda/processing.js";
import { OPS_TOKEN, postJson, startTestApi } from "./helpers.js";

describe("recovery of orders the queue lost, and a publish outage", () => {
  const suite = emulatorSuite();
  const { cleanups } = suite;

  async function setup(republisher: { staleAfterMs: number; intervalMs: number } | false) {
    const t = tempSqliteStore();
    const api = await startTestApi(t.store, suite.emulator, { republisher });
    cleanups.push(t.remove, api.close);
    const accept = async (n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++)
        ids.push(String((await postJson(`${api.url}/orders/async`, validOrder())).body.orderId));
      return ids;
    };
    const onQueue = async () => {
      const d = await api.queue.depth();
      return d.visible + d.inFlight + d.delayed;
    };
    const drain = async () => {
      const ids: string[] = [];
      for (;;) {
        const messages = await api.queue.receive(10, 0);
        if (messages.length === 0) return ids;
        for (const m of messages) ids.push(JSON.parse(m.Body ?? "{}").orderId);
        await api.queue.deleteBatch(messages.map((m) => m.ReceiptHandle ?? ""));
      }
    };
    const purge = () => suite.emulator.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: api.topology.queueUrl }));
    return { t, api, accept, onQueue, drain, purge };
  }

  it("leaves orders published to Lambda alone: never on the queue, not lost, and not the workers' backlog", async () => {
    const t = tempSqliteStore();
    const processing = new ProcessingRouter(t.store);
    await processing.set("lambda");
    const api = await startTestApi(t.store, suite.emulator, {
      republisher: { staleAfterMs: 200, intervalMs: 60_000 },
      processing,
      lambdaQueue: true,
    });
    cleanups.push(t.remove, api.close);
    for (let i = 0; i < 5; i++) expect((await postJson(`${api.url}/orders/async`, validOrder())).status).toBe(202);
    await waitFor(async () => (await t.store.outboxStats()).pending === 0, { what: "5 orders published" });
    const lambdaQueueUrl = api.topology.lambdaQueueUrl ?? "";
    await waitFor(async () => (await api.queue.depth(lambdaQueueUrl)).visible === 5, { what: "5 events for Lambda" });
    expect((await api.queue.depth()).visible).toBe(0);

    // Older than the threshold, nothing touched them, none on the orders queue: still not lost.
    await new Promise((r) => setTimeout(r, 300));
    expect(await api.api.republisher?.sweepOnce()).toBe(0);
    expect((await new BacklogSource({ store: t.store }).read()).backlog).toBe(0);
    expect((await t.store.countByStatus()).queued).toBe(5);
    expect((await api.queue.depth()).visible).toBe(0);
  });

  it("without the sweep, an order whose message was lost waits forever (the finding)", async () => {
    const { t, accept, onQueue, purge } = await setup(false);
    await accept(5);
    await waitFor(async () => (await onQueue()) === 5, { what: "5 messages on the queue" });
    await purge();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await onQueue()).toBe(0);
    expect((await t.store.countByStatus()).queued).toBe(5);
  });

  it("the sweep publishes lost orders again, once each, and leaves a backlog that is on the queue alone", async () => {
    // The threshold leaves the relay time to publish a sweep's rows before they could look stale
    // again, even on a loaded CI machine (300 ms was not enough there: orders went out twice).
    const { t, api, accept, onQueue, drain, purge } = await setup({ staleAfterMs: 2000, intervalMs: 100 });
    const ids = await accept(20);
    await waitFor(async () => (await onQueue()) === 20, { what: "20 messages on the queue" });
    // A backlog older than the threshold, all on the queue: nothing to republish.
    await new Promise((r) => setTimeout(r, 2300));
    expect(await api.api.republisher?.sweepOnce()).toBe(0);
    expect(await onQueue()).toBe(20);

    await purge();
    await waitFor(async () => (await onQueue()) === 20, { what: "the 20 lost orders published again" });
    // Stable: the next sweeps see them on the queue and add nothing.
    await new Promise((r) => setTimeout(r, 800));
    expect(await onQueue()).toBe(20);
    expect((await drain()).sort()).toEqual([...ids].sort());
    expect((await t.store.countByStatus()).queued).toBe(20);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/^surge_orders_republished_total 20$/m);
  });

  it("a publish outage: orders are accepted into the outbox, and reach the queue when it ends", async () => {
    const { t, api, accept, onQueue } = await setup(false);
    const ops = (method: string, body?: unknown) =>
      fetch(`${api.url}/ops/faults/publish`, {
        method,
        headers: { authorization: `Bearer ${OPS_TOKEN}`, "content-type": "application/json" },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    expect((await ops("PUT", { outageSeconds: 3601 })).status).toBe(400);
    const started = await ops("PUT", { outageSeconds: 60 });
    expect(await started.json()).toMatchObject({ publishOutage: true, publishOutageRemainingSeconds: 60 });
    const ids = await accept(10);
    expect(ids.every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await onQueue()).toBe(0);
    expect((await t.store.outboxStats()).pending).toBe(10);
    expect(await (await ops("GET")).json()).toMatchObject({ publishOutage: true });
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/^surge_outbox_publish_errors_total [1-9]/m);

    expect(await (await ops("PUT", { outageSeconds: 0 })).json()).toMatchObject({ publishOutage: false });
    await waitFor(async () => (await onQueue()) === 10, { what: "10 messages after the outage", timeoutMs: 15_000 });
    expect((await t.store.outboxStats()).pending).toBe(0);
    const audit = await fetch(`${api.url}/ops/audit?action=faults.publish`, {
      headers: { authorization: `Bearer ${OPS_TOKEN}` },
    });
    expect(((await audit.json()) as { entries: unknown[] }).entries).toHaveLength(2);
  });
});
