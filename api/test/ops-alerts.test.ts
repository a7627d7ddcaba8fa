import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@surge/core";
import { tempSqliteStore } from "@surge/testing";
import express from "express";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { errorHandler } from "../src/http/server.js";
import { createApiMetrics } from "../src/metrics.js";
import { AuditLog } from "../src/ops/audit.js";
import { type AlertsSection, alertId, alertsModule } from "../src/ops/modules/alerts.js";
import { opsRouter } from "../src/ops/router.js";
import { OpsState } from "../src/ops/state.js";

const OPERATOR = "operator-token-0123456789";
const ALERTS = "alerts-token-0123456789ab";
const silentLog = createLogger({ service: "test" }, { write: () => {} });

/** A Grafana webhook notification as Grafana 11/12 sends it (trimmed to the fields that matter, plus noise). */
function grafanaNotification(status: "firing" | "resolved", startsAt: string, endsAt = "0001-01-01T00:00:00Z") {
  return {
    receiver: "Surge console",
    status,
    orgId: 1,
    alerts: [
      {
        status,
        labels: {
          alertname: "Surge queue age (warning)",
          grafana_folder: "Surge",
          service: "surge",
          severity: "warning",
        },
        annotations: {
          summary: "The oldest unpaid order has waited over 60 s for 2 minutes",
          description: "The oldest accepted order not yet paid is 2m 5s old.",
        },
        startsAt,
        endsAt,
        generatorURL: "http://127.0.0.1:3001/alerting/grafana/surge-queue-age-warning/view",
        fingerprint: "b1a4c0f2d3e4a5b6",
        silenceURL: "http://127.0.0.1:3001/alerting/silence/new",
        dashboardURL: "http://127.0.0.1:3001/d/surge-overview",
        panelURL: "http://127.0.0.1:3001/d/surge-overview?viewPanel=12",
        values: { B: 125, C: 1 },
        valueString: "[ var='B' value=125 ]",
      },
    ],
    groupLabels: { alertname: "Surge queue age (warning)", grafana_folder: "Surge" },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://127.0.0.1:3001/",
    version: "1",
    groupKey: '{}:{alertname="Surge queue age (warning)"}',
    truncatedAlerts: 0,
    title: `[${status.toUpperCase()}:1] Surge queue age (warning)`,
    state: status === "firing" ? "alerting" : "ok",
    message: "…",
  };
}

describe("POST /ops/alerts and GET /ops/alerts", () => {
  let t: ReturnType<typeof tempSqliteStore>;
  let servers: Server[] = [];
  let clock: number;

  /** An ops router with only the alerts module, on a shared store and a controllable clock. */
  async function start(): Promise<{ url: string; state: OpsState }> {
    const app = express();
    const state = new OpsState();
    const metrics = createApiMetrics({ store: t.store, payments: () => undefined });
    app.use(
      "/ops",
      opsRouter(
        { store: t.store, log: silentLog, metrics, audit: new AuditLog(t.store), state },
        [
          { token: OPERATOR, label: "operator", role: "operator" },
          { token: ALERTS, label: "alerts", role: "read-only" },
        ],
        [alertsModule(t.store, { now: () => clock, staleAfterMs: 60 * 60 * 1000 })],
      ),
    );
    app.use(errorHandler(silentLog, metrics));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    servers.push(server);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state };
  }

  const send = (url: string, path: string, body: unknown, token = ALERTS) =>
    fetch(`${url}/ops${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  const list = async (url: string): Promise<AlertsSection> =>
    (
      await fetch(`${url}/ops/alerts`, { headers: { authorization: `Bearer ${ALERTS}` } })
    ).json() as Promise<AlertsSection>;

  beforeEach(() => {
    t = tempSqliteStore();
    clock = Date.parse("2026-11-26T10:00:00Z");
    servers = [];
  });
  afterEach(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    await t.remove();
  });

  it("keeps a Grafana alert firing until Grafana resolves it, and shows it in the state snapshot", async () => {
    const { url, state } = await start();
    const firing = await send(url, "/alerts", grafanaNotification("firing", "2026-11-26T09:58:00Z"));
    expect(firing.status).toBe(200);
    expect(await firing.json()).toEqual({ received: 1, firing: 1, resolved: 0 });

    const labels = grafanaNotification("firing", "").alerts[0]?.labels ?? {};
    const expected = {
      id: alertId(labels),
      name: "Surge queue age (warning)",
      severity: "warning",
      source: "grafana",
      status: "firing",
      summary: "The oldest unpaid order has waited over 60 s for 2 minutes",
      startsAt: "2026-11-26T09:58:00.000Z",
      lastReceivedAt: "2026-11-26T10:00:00.000Z",
      links: {
        generator: "http://127.0.0.1:3001/alerting/grafana/surge-queue-age-warning/view",
        dashboard: "http://127.0.0.1:3001/d/surge-overview",
        panel: "http://127.0.0.1:3001/d/surge-overview?viewPanel=12",
        silence: "http://127.0.0.1:3001/alerting/silence/new",
      },
    };
    expect((await list(url)).firing).toEqual([expect.objectContaining(expected)]);
    const snapshot = (await state.snapshot()) as { alerts: AlertsSection };
    expect(snapshot.alerts.firing).toEqual([expect.objectContaining({ id: expected.id, status: "firing" })]);
    // Ended-at "0001-01-01" means "not ended": no endsAt on a firing alert.
    expect((await list(url)).firing[0]?.endsAt).toBeUndefined();

    clock += 5 * 60 * 1000;
    const resolved = await send(
      url,
      "/alerts",
      grafanaNotification("resolved", "2026-11-26T09:58:00Z", "2026-11-26T10:04:40Z"),
    );
    expect(await resolved.json()).toEqual({ received: 1, firing: 0, resolved: 1 });
    const after = await list(url);
    expect(after.firing).toEqual([]);
    expect(after.resolved).toEqual([
      expect.objectContaining({ id: expected.id, status: "resolved", endsAt: "2026-11-26T10:04:40.000Z" }),
    ]);
  });

  it("takes Alertmanager webhook notifications (version 4) the same way", async () => {
    const { url } = await start();
    const res = await send(url, "/alerts", {
      version: "4",
      groupKey: "{}:{}",
      status: "firing",
      receiver: "surge-console",
      alerts: [
        {
          status: "firing",
          labels: { alertname: "SurgeDeadLetters", severity: "warning" },
          annotations: { summary: "3 order(s) in the dead-letter queue" },
          startsAt: "2026-11-26T09:59:00Z",
          endsAt: "0001-01-01T00:00:00Z",
          generatorURL: "http://127.0.0.1:9090/graph",
          fingerprint: "0a1b2c3d",
        },
      ],
    });
    expect(res.status).toBe(200);
    expect((await list(url)).firing).toEqual([
      expect.objectContaining({ name: "SurgeDeadLetters", source: "alertmanager", status: "firing" }),
    ]);
  });

  it("takes Prometheus' Alertmanager API posts: firing while re-sent, resolved on endsAt or when it lapses", async () => {
    const { url } = await start();
    const alert = (name: string, endsAtMs: number) => ({
      labels: { alertname: name, severity: "critical", deployment: "surge-local" },
      annotations: { summary: `${name} summary` },
      startsAt: "2026-11-26T09:59:30Z",
      endsAt: new Date(endsAtMs).toISOString(),
      generatorURL: "http://127.0.0.1:9090/graph?g0.expr=x",
    });
    // Prometheus sends firing alerts with endsAt a few minutes ahead (4 × the resend delay).
    const res = await send(url, "/alerts/api/v2/alerts", [
      alert("SurgeQueueAgeCritical", clock + 4 * 60_000),
      alert("SurgeApiDown", clock + 60_000),
    ]);
    expect(res.status).toBe(200);
    expect((await list(url)).firing.map((a) => [a.name, a.source])).toEqual([
      ["SurgeQueueAgeCritical", "prometheus"],
      ["SurgeApiDown", "prometheus"],
    ]);

    // Two minutes on: SurgeApiDown was not re-sent and lapsed; the other was resolved explicitly.
    clock += 2 * 60_000;
    await send(url, "/alerts/api/v2/alerts", [alert("SurgeQueueAgeCritical", clock - 1000)]);
    const after = await list(url);
    expect(after.firing).toEqual([]);
    expect(after.resolved.map((a) => a.name).sort()).toEqual(["SurgeApiDown", "SurgeQueueAgeCritical"]);
  });

  it("lists critical before warning, oldest first, and flags webhook alerts not re-sent in time as stale", async () => {
    const { url } = await start();
    const notify = (name: string, severity: string, startsAt: string) =>
      send(url, "/alerts", {
        version: "4",
        alerts: [{ status: "firing", labels: { alertname: name, severity }, annotations: {}, startsAt }],
      });
    await notify("B warning", "warning", "2026-11-26T09:00:00Z");
    await notify("A critical, newer", "critical", "2026-11-26T09:50:00Z");
    await notify("C critical, older", "critical", "2026-11-26T09:40:00Z");
    expect((await list(url)).firing.map((a) => a.name)).toEqual([
      "C critical, older",
      "A critical, newer",
      "B warning",
    ]);
    expect((await list(url)).firing.some((a) => a.stale)).toBe(false);

    clock += 61 * 60 * 1000;
    await notify("B warning", "warning", "2026-11-26T09:00:00Z");
    const stale = Object.fromEntries((await list(url)).firing.map((a) => [a.name, a.stale ?? false]));
    expect(stale).toEqual({ "C critical, older": true, "A critical, newer": true, "B warning": false });
  });

  it("remembers what fires across an API restart (the store, not memory, holds it)", async () => {
    const first = await start();
    await send(first.url, "/alerts", grafanaNotification("firing", "2026-11-26T09:58:00Z"));
    const second = await start();
    expect((await list(second.url)).firing.map((a) => a.name)).toEqual(["Surge queue age (warning)"]);
  });

  it("lets the read-only alerts token deliver alerts and nothing else; no token is 401", async () => {
    const { url } = await start();
    expect((await send(url, "/alerts", grafanaNotification("firing", "2026-11-26T09:58:00Z"), "nope")).status).toBe(
      401,
    );
    expect((await send(url, "/alerts/api/v2/alerts", [])).status).toBe(200);
    const control = await send(url, "/dlq/redrive", {});
    expect(control.status).toBe(403);
    expect(await control.json()).toEqual({ error: 'token "alerts" is read-only' });
    expect((await send(url, "/alerts", { version: "4", alerts: [] }, OPERATOR)).status).toBe(200);
  });

  it("answers 400 naming the field for a malformed notification, and stores nothing", async () => {
    const { url } = await start();
    const noName = await send(url, "/alerts", {
      alerts: [{ status: "firing", labels: { severity: "warning" }, startsAt: "2026-11-26T09:58:00Z" }],
    });
    expect(noName.status).toBe(400);
    expect(await noName.json()).toMatchObject({
      details: [{ field: "alerts.0.labels", message: "must include alertname" }],
    });
    const badStatus = await send(url, "/alerts", {
      alerts: [{ status: "pending", labels: { alertname: "x" }, startsAt: "2026-11-26T09:58:00Z" }],
    });
    expect(await badStatus.json()).toMatchObject({
      details: [{ field: "alerts.0.status", message: "must be firing or resolved" }],
    });
    const badTime = await send(url, "/alerts/api/v2/alerts", [{ labels: { alertname: "x" }, startsAt: "yesterday" }]);
    expect(badTime.status).toBe(400);
    expect(await badTime.json()).toMatchObject({ details: [{ field: "0.startsAt" }] });
    expect(await list(url)).toEqual({ firing: [], resolved: [] });
  });
});
