/**
 * The page, end to end: workers scaled to 0 under load, the queue-age alert fires in a real Prometheus,
 * reaches the API with the read-only alerts token, and resolves once the workers are back. The same
 * rules are rendered with short thresholds (3 s for 3 s) so the incident takes seconds.
 */

import type { AlertsSection, AlertView } from "@surge/api/ops/modules/alerts";
import { JOBS } from "@surge/grafana/common";
import { DEFAULT_ALERT_PARAMS } from "@surge/grafana/prometheus";
import { waitFor } from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeTargets, type ObservedStack, startObservedStack } from "./observed-stack.js";

const WARNING = "SurgeQueueAgeWarning";
const THRESHOLD_SECONDS = 3;

interface PromAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

describe("the queue-age alert", () => {
  let stack: ObservedStack;
  beforeAll(async () => {
    stack = await startObservedStack({
      workerTasks: 1,
      paymentDurationMs: 50,
      alertParams: {
        ...DEFAULT_ALERT_PARAMS,
        queueAgeWarningSeconds: THRESHOLD_SECONDS,
        queueAgeWarningFor: "3s",
        // Out of reach in this test: only the warning may fire.
        queueAgeCriticalSeconds: 3600,
      },
    });
    await waitFor(
      async () => (await activeTargets(stack)).filter((t) => t.job === JOBS.workers && t.health === "up").length === 1,
      { timeoutMs: 30_000, intervalMs: 250, what: "Prometheus scraping the worker task" },
    );
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  const promAlerts = async () => (await stack.prometheusGet<{ alerts: PromAlert[] }>("/api/v1/alerts")).alerts;
  const apiAlerts = async () => (await stack.ops("GET", "/alerts")).body as AlertsSection;

  it("fires with no workers under load, reaches the console, and resolves when the workers return", async () => {
    // No task: orders wait.
    expect((await stack.ops("PUT", "/fleet", { desiredCount: 0 })).status).toBe(200);
    await waitFor(() => stack.supervisor.snapshot().tasks.length === 0, {
      timeoutMs: 20_000,
      what: "the task to stop",
    });
    const scaledToZeroAt = Date.now();

    // Under load: 5 async orders a second, as a flash sale's arrival-rate burst.
    const burst = await stack.ops("POST", "/bursts", { mode: "async", ratePerSecond: 5, durationSeconds: 120 });
    expect(burst.status, JSON.stringify(burst.body)).toBe(201);
    const burstId = (burst.body as { id: string }).id;

    const firing = (await waitFor(
      async () => (await promAlerts()).find((a) => a.labels.alertname === WARNING && a.state === "firing"),
      { timeoutMs: 40_000, intervalMs: 250, what: `${WARNING} firing in Prometheus` },
    )) as PromAlert;
    const firedAfterMs = Date.now() - scaledToZeroAt;
    expect(firing.labels).toEqual({ alertname: WARNING, severity: "warning" });
    const age = Number((await stack.query("max(surge_queue_oldest_order_age_seconds)"))[0]?.value?.[1]);
    expect(age).toBeGreaterThan(THRESHOLD_SECONDS);

    // Prometheus delivered it to the API, which shows it as firing (critical first, then warning).
    const delivered = (await waitFor(async () => (await apiAlerts()).firing.find((a) => a.name === WARNING), {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: `${WARNING} delivered to /ops/alerts`,
    })) as AlertView;
    // With the external labels Prometheus adds to what it sends.
    expect(delivered).toMatchObject({
      source: "prometheus",
      status: "firing",
      severity: "warning",
      labels: { alertname: WARNING, severity: "warning", deployment: "surge-local" },
    });
    expect(delivered.summary).toMatch(/^Orders are waiting: the oldest unpaid order is \d+(\.\d+)?s old$/);
    const state = (await stack.api.state.snapshot()) as { alerts: AlertsSection };
    expect(state.alerts.firing.map((a) => a.name)).toEqual([WARNING]);

    // The workers come back; the backlog drains while orders keep arriving.
    const restoredAt = Date.now();
    expect((await stack.ops("PUT", "/fleet", { desiredCount: 1 })).status).toBe(200);
    await waitFor(async () => !(await promAlerts()).some((a) => a.labels.alertname === WARNING), {
      timeoutMs: 40_000,
      intervalMs: 250,
      what: `${WARNING} to resolve in Prometheus`,
    });
    const resolvedAfterMs = Date.now() - restoredAt;
    const resolved = await waitFor(
      async () => {
        const alerts = await apiAlerts();
        return alerts.firing.length === 0 ? alerts.resolved.find((a) => a.name === WARNING) : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: `${WARNING} resolved at /ops/alerts` },
    );
    expect(resolved).toMatchObject({ status: "resolved", source: "prometheus", endsAt: expect.any(String) });
    expect((await stack.ops("DELETE", `/bursts/${burstId}`)).status).toBe(200);

    // The critical alert never fired: its threshold was out of reach.
    const fired = await stack.query('count_over_time(ALERTS{alertname="SurgeQueueAgeCritical"}[5m])');
    expect(fired).toEqual([]);
    console.info(
      `queue-age alert: firing ${(firedAfterMs / 1000).toFixed(1)} s after scaling to 0 ` +
        `(threshold ${THRESHOLD_SECONDS} s, for 3 s), resolved ${(resolvedAfterMs / 1000).toFixed(1)} s after the workers returned`,
    );
  }, 120_000);
});
