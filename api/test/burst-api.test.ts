import type { Server } from "node:http";
import type { BurstStats } from "@surge/loadgen";
import { tempPostgresStore, tempSqliteStore, waitFor } from "@surge/testing";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { Api } from "../src/app.js";
import { BURST_RECORD_KIND, type BurstsModule } from "../src/ops/modules/bursts.js";
import { READ_ONLY_TOKEN, startBurstApi } from "./burst-helpers.js";
import { OPS_TOKEN } from "./helpers.js";

describe("ops bursts API", () => {
  let t: ReturnType<typeof tempSqliteStore>;
  let api: Api;
  let module: BurstsModule;
  let server: Server;
  let url: string;

  const ops = async (method: string, path: string, body?: unknown, token = OPS_TOKEN) => {
    const res = await fetch(`${url}/ops${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { text };
    }
    return { status: res.status, headers: res.headers, body: json, text };
  };
  const stats = async (id: string) => (await ops("GET", `/bursts/${id}`)).body as unknown as BurstStats;
  /** Polls a burst's live stats until `done` holds, and returns those stats. */
  const statsWhen = async (id: string, done: (s: BurstStats) => boolean, what: string, timeoutMs = 20_000) => {
    let last: BurstStats | undefined;
    await waitFor(
      async () => {
        last = await stats(id);
        return done(last);
      },
      { what, timeoutMs },
    );
    return last as BurstStats;
  };

  beforeEach(async () => {
    t = tempSqliteStore();
    ({ api, module, server, url } = await startBurstApi(t.store));
  });
  afterEach(async () => {
    await api.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await t.remove();
  });

  it("needs the operator token: 401 without one, 403 for a read-only one", async () => {
    const body = { mode: "async", ratePerSecond: 5, durationSeconds: 1 };
    const anonymous = await fetch(`${url}/ops/bursts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(anonymous.status).toBe(401);
    expect((await ops("POST", "/bursts", body, READ_ONLY_TOKEN)).status).toBe(403);
    expect((await ops("GET", "/bursts", undefined, READ_ONLY_TOKEN)).status).toBe(200);
  });

  it.each([
    ["users over 2,000", { mode: "async", users: 2001, spawnRate: 10, durationSeconds: 10 }, "users"],
    ["rate over 5,000/s", { mode: "async", ratePerSecond: 5001, durationSeconds: 10 }, "ratePerSecond"],
    ["duration over 10 minutes", { mode: "sync", users: 5, spawnRate: 1, durationSeconds: 601 }, "durationSeconds"],
    ["spawn rate over the bound", { mode: "sync", users: 5, spawnRate: 2001, durationSeconds: 5 }, "spawnRate"],
    [
      "a foreign host",
      { mode: "async", ratePerSecond: 5, durationSeconds: 1, target: "http://shop.example.com" },
      "target",
    ],
    [
      "another port on this host",
      { mode: "async", ratePerSecond: 5, durationSeconds: 1, target: "http://127.0.0.1:1" },
      "target",
    ],
    ["a non-URL target", { mode: "async", ratePerSecond: 5, durationSeconds: 1, target: "file:///etc" }, "target"],
    ["no load model", { mode: "async", durationSeconds: 1 }, "users"],
    ["a negative rate", { mode: "async", ratePerSecond: -3, durationSeconds: 1 }, "ratePerSecond"],
    [
      "stages longer than the bound",
      {
        mode: "async",
        stages: [
          { durationSeconds: 500, ratePerSecond: 5 },
          { durationSeconds: 200, ratePerSecond: 5 },
        ],
      },
      "stages",
    ],
    [
      "a negative stage rate",
      { mode: "async", stages: [{ durationSeconds: 5, ratePerSecond: -1 }] },
      "stages.0.ratePerSecond",
    ],
    [
      "an unknown threshold metric",
      { mode: "async", ratePerSecond: 5, durationSeconds: 1, thresholds: [{ metric: "p95Ms", max: 100 }] },
      "thresholds.0.metric",
    ],
    [
      "an unknown arrival process",
      { mode: "async", ratePerSecond: 5, durationSeconds: 1, arrival: "bursty" },
      "arrival",
    ],
  ])("rejects %s with 400 naming the field, and starts nothing", async (_what, body, field) => {
    const res = await ops("POST", "/bursts", body);
    expect(res.status).toBe(400);
    expect((res.body.details as Array<{ field: string }>).map((d) => d.field)).toContain(field);
    expect(module.active()).toBeUndefined();
    expect(await t.store.listRecords(BURST_RECORD_KIND)).toHaveLength(0);
  });

  it("names every bad field of a body, with its bound, not only the first", async () => {
    const res = await ops("POST", "/bursts", { mode: "sync", users: 999_999, spawnRate: 0, durationSeconds: 0 });
    expect(res.status).toBe(400);
    const details = res.body.details as Array<{ field: string; message: string }>;
    expect(Object.fromEntries(details.map((d) => [d.field, d.message]))).toMatchObject({
      users: expect.stringMatching(/at most 2000/),
      spawnRate: expect.stringMatching(/above 0/),
      durationSeconds: expect.stringMatching(/at least 0.1/),
    });
  });

  it("decides its SLO gates once finished, and watches the queue drain for the queue gates", async () => {
    // Async orders here stay queued (no worker): the queue never drains, so the queue gates fail
    // as soon as their bounds are passed (the watch stops there), the drain with the seconds watched.
    const start = await ops("POST", "/bursts", {
      mode: "async",
      ratePerSecond: 0,
      stages: [
        { durationSeconds: 0.5, ratePerSecond: 40 },
        { durationSeconds: 0.5, ratePerSecond: 40 },
      ],
      arrival: "poisson",
      thresholds: [
        { metric: "p99Ms", max: 5000 },
        { metric: "failureRatio", max: 0 },
        { metric: "oldestAgeSeconds", max: 1 },
        { metric: "drainSeconds", max: 1 },
      ],
    });
    expect(start.status).toBe(201);
    const id = String(start.body.id);
    expect(start.body.spec).toMatchObject({ durationSeconds: 1, arrival: "poisson" });
    const draining = await statsWhen(id, (s) => s.status === "completed", "the load to end");
    expect(draining.queue?.waiting).toBeGreaterThan(0);
    // While it watches the drain it is still the active burst: another one waits.
    if (draining.queue?.draining) {
      expect((await ops("POST", "/bursts", { mode: "async", ratePerSecond: 5, durationSeconds: 1 })).status).toBe(409);
    }
    const final = await statsWhen(id, (s) => s.thresholds !== undefined, "the gates");
    expect(final.requests).toBeGreaterThan(10);
    expect(final.serviceTimeMs.p50).toBeGreaterThan(0);
    expect(final.scheduleLagMs.max).toBeGreaterThanOrEqual(0);
    expect(final.queue).toMatchObject({ draining: false, drained: false });
    const gates = Object.fromEntries((final.thresholds ?? []).map((g) => [g.metric, g]));
    expect(gates.p99Ms).toMatchObject({ max: 5000, pass: true });
    expect(gates.failureRatio).toMatchObject({ value: 0, pass: true });
    expect(gates.oldestAgeSeconds?.pass).toBe(false);
    expect(gates.oldestAgeSeconds?.value).toBeGreaterThan(1);
    expect(gates.drainSeconds).toMatchObject({ max: 1, pass: false });
    expect(gates.drainSeconds?.value).toBeGreaterThan(1);
    // The saved record carries them too.
    await module.active()?.done;
    const record = await t.store.getRecord<BurstStats>(BURST_RECORD_KIND, id);
    expect(record?.data.thresholds).toHaveLength(4);
  });

  it("accepts its own base URL as an explicit target", async () => {
    const res = await ops("POST", "/bursts", {
      mode: "async",
      ratePerSecond: 5,
      durationSeconds: 0.5,
      target: `${url}/`,
    });
    expect(res.status).toBe(201);
    expect((await module.active()?.done)?.target).toBe(url);
  });

  it("start → live stats → change → stop → list → export, audited, persisted and metered", async () => {
    const start = await ops("POST", "/bursts", {
      mode: "async",
      users: 4,
      spawnRate: 20,
      durationSeconds: 60,
      waitMinMs: 10,
      waitMaxMs: 30,
    });
    expect(start.status).toBe(201);
    const id = String(start.body.id);
    expect(start.headers.get("location")).toBe(`/ops/bursts/${id}`);
    expect(start.body).toMatchObject({ status: "running", spec: { model: "users", users: 4 }, target: url });

    // One burst at a time, so the bounds hold for the deployment's load generator as a whole.
    const second = await ops("POST", "/bursts", { mode: "async", ratePerSecond: 5, durationSeconds: 1 });
    expect(second.status).toBe(409);

    const live = await statsWhen(id, (s) => s.requests >= 40 && s.timeline.length >= 1, "a second of live stats");
    expect(live.status).toBe("running");
    expect(live.users).toMatchObject({ target: 4, active: 4 });
    expect(live.latencyMs.p50).toBeGreaterThan(0);

    const state = (await ops("GET", "/state")).body as { bursts: { active: BurstStats | null } };
    expect(state.bursts.active?.id).toBe(id);

    const change = await ops("PATCH", `/bursts/${id}`, { users: 6 });
    expect(change.status).toBe(200);
    expect(change.body.users).toMatchObject({ target: 6 });
    const wrongModel = await ops("PATCH", `/bursts/${id}`, { ratePerSecond: 10 });
    expect(wrongModel.status).toBe(400);
    expect((wrongModel.body.details as Array<{ field: string }>)[0]?.field).toBe("ratePerSecond");
    const overBound = await ops("PUT", `/bursts/${id}`, { users: 5000 });
    expect(overBound.status).toBe(400);
    expect(overBound.text).toMatch(/at most 2000/);

    const stop = await ops("DELETE", `/bursts/${id}`);
    expect(stop.status).toBe(200);
    const final = stop.body as unknown as BurstStats;
    expect(final.status).toBe("stopped");
    expect(final.failures).toBe(0);
    expect(final.changes).toEqual([expect.objectContaining({ by: "test-operator", after: { users: 6 } })]);

    // Persisted: the store's record is the final one.
    const record = await t.store.getRecord<BurstStats>(BURST_RECORD_KIND, id);
    expect(record?.data).toMatchObject({ status: "stopped", requests: final.requests, failures: 0 });
    expect(record?.data.timeline.length).toBeGreaterThan(0);
    expect((await ops("PATCH", `/bursts/${id}`, { users: 2 })).status).toBe(409);
    expect((await ops("DELETE", `/bursts/${id}`)).body).toMatchObject({ status: "stopped" });

    const list = (await ops("GET", "/bursts")).body as { bursts: Array<Record<string, unknown>> };
    expect(list.bursts[0]).toMatchObject({ id, status: "stopped", requests: final.requests });
    expect(list.bursts[0]).not.toHaveProperty("timeline");

    const csv = await fetch(`${url}/ops/bursts/${id}.csv`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    expect(csv.headers.get("content-disposition")).toMatch(new RegExp(`burst-${id}\\.csv`));
    const rows = (await csv.text()).trim().split("\n");
    expect(rows[0]).toMatch(
      /^second,interval_seconds,sent,requests,failures,requests_per_second,p50_ms,p99_ms,service_p99_ms,users/,
    );
    expect(rows).toHaveLength((record?.data.timeline.length ?? 0) + 1);
    const csvRequests = rows.slice(1).reduce((sum, row) => sum + Number(row.split(",")[3]), 0);
    expect(csvRequests).toBe(final.requests);
    const json = await ops("GET", `/bursts/${id}?format=json`);
    expect(json.headers.get("content-disposition")).toMatch(/attachment/);
    expect(json.body).toMatchObject({ id, requests: final.requests });
    expect((await ops("GET", `/bursts/${id}?format=xml`)).status).toBe(400);
    expect((await ops("GET", "/bursts/00000000-0000-7000-8000-000000000000")).status).toBe(404);

    const audit = (await ops("GET", "/audit?action=burst")).body as {
      entries: Array<{ action: string; actor: string }>;
    };
    expect(audit.entries.map((e) => e.action).sort()).toEqual(["burst.change", "burst.start", "burst.stop"]);
    expect(audit.entries.every((e) => e.actor === "test-operator")).toBe(true);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const value = (line: string) => Number(new RegExp(`^${line} (\\S+)$`, "m").exec(metrics)?.[1]);
    expect(value('surge_burst_requests_total\\{mode="async",result="ok"\\}')).toBe(final.requests);
    expect(value('surge_burst_requests_total\\{mode="sync",result="failed"\\}')).toBe(0);
    expect(value("surge_burst_active")).toBe(0);
    expect(value("surge_burst_last_start_timestamp_seconds")).toBeCloseTo(Date.parse(final.startedAt) / 1000, 2);
    expect(value("surge_burst_last_end_timestamp_seconds")).toBeGreaterThanOrEqual(
      value("surge_burst_last_start_timestamp_seconds"),
    );

    // Every answered request is a recorded order; cut-off ones may or may not have been recorded.
    const counts = await t.store.countByStatus();
    const orders = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(orders).toBeGreaterThanOrEqual(final.requests);
    expect(orders).toBeLessThanOrEqual(final.requests + final.abandoned);
  });

  it("the arrival rate holds within 2% when the target keeps up", async () => {
    const start = await ops("POST", "/bursts", { mode: "async", ratePerSecond: 100, durationSeconds: 3 });
    expect(start.status).toBe(201);
    const id = String(start.body.id);
    const final = await statsWhen(id, (s) => s.status === "completed", "the burst to complete");
    expect(final.failures).toBe(0);
    expect(final.dropped).toBe(0);
    // The generator sends exactly rate × duration whatever the host does; the answers keep up within 2%.
    expect(final.sent).toBe(300);
    expect(final.requests + final.abandoned).toBe(300);
    expect(Math.abs(final.requests - 300) / 300).toBeLessThanOrEqual(0.02);
    expect(Math.abs(final.throughputPerSecond - 100) / 100).toBeLessThanOrEqual(0.02);
  });

  it("marks a burst left running by a process that died as interrupted", async () => {
    const id = "00000000-0000-7000-8000-00000000dead";
    await t.store.putRecord(BURST_RECORD_KIND, id, { id, status: "running", startedAt: new Date().toISOString() });
    const second = await startBurstApi(t.store);
    try {
      await waitFor(
        async () => (await t.store.getRecord<BurstStats>(BURST_RECORD_KIND, id))?.data.status === "interrupted",
        {
          what: "the stale burst to be marked interrupted",
        },
      );
    } finally {
      await second.close();
    }
  });

  it("an API shutting down under a running burst records it as interrupted", async () => {
    const start = await ops("POST", "/bursts", { mode: "async", ratePerSecond: 20, durationSeconds: 60 });
    const id = String(start.body.id);
    await waitFor(async () => (await stats(id)).requests > 5, { what: "some answers" });
    await module.close?.();
    const record = await t.store.getRecord<BurstStats>(BURST_RECORD_KIND, id);
    expect(record?.data.status).toBe("interrupted");
    expect(record?.data.requests).toBeGreaterThan(5);
  });
});

describe("ops bursts API on PostgreSQL", () => {
  let t: ReturnType<typeof tempPostgresStore>;
  let api: Awaited<ReturnType<typeof startBurstApi>>;
  beforeEach(async () => {
    t = tempPostgresStore(inject("postgresUrl"));
    api = await startBurstApi(t.store);
  });
  afterEach(async () => {
    await api.close();
    await t.remove();
  });

  it("keeps the burst's record, lists and exports it, and marks a dead process's burst interrupted", async () => {
    const headers = { authorization: `Bearer ${OPS_TOKEN}`, "content-type": "application/json" };
    const start = await fetch(`${api.url}/ops/bursts`, {
      method: "POST",
      headers,
      body: JSON.stringify({ mode: "async", ratePerSecond: 40, durationSeconds: 1.5 }),
    });
    expect(start.status).toBe(201);
    const { id } = (await start.json()) as { id: string };
    const final = (await api.module.active()?.done) as BurstStats;
    await waitFor(
      async () => (await t.store.getRecord<BurstStats>(BURST_RECORD_KIND, id))?.data.status === "completed",
      {
        what: "the final record",
      },
    );
    const record = await t.store.getRecord<BurstStats>(BURST_RECORD_KIND, id);
    expect(record?.data).toMatchObject({ requests: final.requests, sent: 60, failures: 0 });
    const list = (await (await fetch(`${api.url}/ops/bursts`, { headers })).json()) as {
      bursts: Array<{ id: string }>;
    };
    expect(list.bursts.map((b) => b.id)).toEqual([id]);
    const csv = await (await fetch(`${api.url}/ops/bursts/${id}.csv`, { headers })).text();
    expect(csv.trim().split("\n")).toHaveLength(final.timeline.length + 1);

    const staleId = "00000000-0000-7000-8000-0000000dead2";
    await t.store.putRecord(BURST_RECORD_KIND, staleId, {
      id: staleId,
      status: "running",
      startedAt: new Date().toISOString(),
    });
    const second = await startBurstApi(t.store);
    try {
      await waitFor(
        async () => (await t.store.getRecord<BurstStats>(BURST_RECORD_KIND, staleId))?.data.status === "interrupted",
        { what: "the stale burst to be marked interrupted" },
      );
    } finally {
      await second.close();
    }
  });
});
