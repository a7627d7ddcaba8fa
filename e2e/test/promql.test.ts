/**
 * Every PromQL expression of the generated artifacts, run by a real Prometheus scraping a stack under
 * a burst: each must run, and each reading only families the stack exports must return data — a typo
 * in a panel is a red test, not a blank panel on Black Friday.
 */

import { JOBS } from "@surge/grafana/common";
import {
  collectQueries,
  familiesOf,
  interpolate,
  isFilter,
  probesOf,
  type QuerySite,
  recordingRuleExprs,
} from "@surge/grafana/testing";
import { waitFor } from "@surge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeTargets, type ObservedStack, startObservedStack } from "./observed-stack.js";

/**
 * The metric families this stack exports, reviewed by hand: a query reading
 * only these must return data. Extend it as features land — the last test
 * fails when Prometheus sees a family that is referenced but not listed here.
 *
 * Not on it:
 * - surge_queue_oldest_message_age_seconds — AWS only (CloudWatch), never local.
 */
const EXPECTED_FAMILIES = new Set([
  "up",
  // API
  "surge_http_request_duration_seconds",
  "surge_orders_accepted_total",
  "surge_orders_rejected_total",
  "surge_orders_refused_total",
  "surge_orders",
  "surge_outbox_pending",
  "surge_outbox_oldest_age_seconds",
  "surge_outbox_publish_latency_seconds",
  "surge_outbox_last_publish_timestamp_seconds",
  "surge_queue_oldest_order_age_seconds",
  "surge_queue_messages",
  // fleet and autoscaling (issue 3)
  "surge_queue_backlog_per_task",
  "surge_queue_drain_eta_seconds",
  "surge_fleet_desired_tasks",
  "surge_fleet_running_tasks",
  "surge_fleet_pending_tasks",
  "surge_fleet_max_tasks",
  "surge_fleet_concurrency",
  "surge_fleet_task_restarts_total",
  "surge_autoscaler_scaling_actions_total",
  // bursts (issue 4)
  "surge_burst_active",
  "surge_burst_users",
  "surge_burst_requests_total",
  "surge_burst_request_duration_seconds",
  // payment processor (API and workers)
  "surge_payment_slots",
  "surge_payment_slots_in_use",
  "surge_payment_waiters",
  "surge_payment_slot_wait_seconds",
  // worker tasks
  "surge_worker_messages_received_total",
  "surge_worker_orders_processed_total",
  "surge_worker_processing_seconds",
  "surge_order_end_to_end_seconds",
  "surge_worker_orders_in_flight",
  "surge_worker_concurrency",
  "surge_worker_last_processed_timestamp_seconds",
  // the local Lambda runtime (issue 5)
  "surge_lambda_invocations_total",
  "surge_lambda_init_duration_seconds",
  "surge_lambda_duration_seconds",
  "surge_lambda_concurrent_executions",
  "surge_lambda_reserved_concurrency",
  "surge_lambda_environments",
  "surge_lambda_environments_ended_total",
  "surge_lambda_throttles_total",
  "surge_lambda_errors_total",
  "surge_lambda_async_retries_total",
  "surge_lambda_dead_lettered_total",
  "surge_lambda_async_events_pending",
  // process
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "process_start_time_seconds",
  "nodejs_eventloop_lag_p99_seconds",
]);

/**
 * Queries that return nothing although their families are exported, each with
 * why. Reviewed like the list above: the test fails once one returns data, so
 * an entry leaves when its gap is fixed.
 */
const KNOWN_BLANK: ReadonlyArray<{ match: string; why: string }> = [];
const knownBlank = (expr: string) => KNOWN_BLANK.find((k) => expr.includes(k.match));

const sites = collectQueries();
const recorded = recordingRuleExprs();

/** Families an expression reads, with recorded series resolved to what they are recorded from. */
function sourceFamilies(expr: string, seen = new Set<string>()): string[] {
  return familiesOf(expr).flatMap((f) => {
    const sources = recorded.get(f);
    if (!sources || seen.has(f)) return [f];
    seen.add(f);
    return sources.flatMap((e) => sourceFamilies(e, seen));
  });
}
const expectsData = (expr: string) => sourceFamilies(expr).every((f) => EXPECTED_FAMILIES.has(f));

describe("every PromQL expression against a live stack", () => {
  let stack: ObservedStack;
  /** The window the burst ran in: queries are range queries over it, as Grafana runs them. */
  let window: { start: number; end: number; step: number };

  beforeAll(async () => {
    const startedAt = Date.now() / 1000;
    stack = await startObservedStack({ workerTasks: 2, paymentDurationMs: 100, lambda: true });
    await waitFor(
      async () => {
        const targets = await activeTargets(stack);
        const up = (job: string) => targets.filter((t) => t.job === job && t.health === "up").length;
        return up(JOBS.api) === 1 && up(JOBS.workers) === 2 && up(JOBS.lambda) === 1;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "Prometheus scraping the API, two worker tasks and Lambda" },
    );
    // Orders alternate between the worker fleet and the Lambda function.
    expect((await stack.ops("PUT", "/processing", { target: "both" })).status).toBe(200);

    // A small flash sale: async users, then sync users (they wait for the API's payment slots).
    const runBurst = async (spec: Record<string, unknown>) => {
      const started = await stack.ops("POST", "/bursts", spec);
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const id = (started.body as { id: string }).id;
      await waitFor(
        async () => ((await stack.ops("GET", `/bursts/${id}`)).body as { status: string }).status !== "running",
        {
          timeoutMs: 30_000,
          intervalMs: 250,
          what: `burst ${id} to end`,
        },
      );
    };
    await runBurst({ mode: "async", users: 6, spawnRate: 6, durationSeconds: 5, waitMinMs: 50, waitMaxMs: 150 });
    await runBurst({ mode: "sync", users: 3, spawnRate: 3, durationSeconds: 2, waitMinMs: 50, waitMaxMs: 100 });
    // A refused order, and an operator scale action (a third task, discovered through file_sd).
    await fetch(`${stack.apiUrl}/orders/async`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect((await stack.ops("PUT", "/fleet", { desiredCount: 3 })).status).toBe(200);
    await waitFor(
      async () => (await activeTargets(stack)).filter((t) => t.job === JOBS.workers && t.health === "up").length === 3,
      { timeoutMs: 30_000, intervalMs: 250, what: "Prometheus discovering the third task" },
    );
    // The targets file names each task: the scrape's own `up` series carry the supervisor's task ids.
    const upTasks = (await stack.query(`up{job="${JOBS.workers}"}`)).map((s) => s.metric.task).sort();
    expect(upTasks).toEqual(
      stack.supervisor
        .snapshot()
        .tasks.map((t) => t.taskId)
        .sort(),
    );
    // Everything accepted is paid, and the rules have evaluated over it.
    await waitFor(
      async () => {
        const paid = await stack.query("count(surge:orders_paid:rate1m > 0) == 2");
        const e2e = await stack.query('surge:order_end_to_end_seconds:quantile_rate1m{quantile="0.99"} > 0');
        return paid.length > 0 && e2e.length > 0;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "recording rules over the paid orders" },
    );
    window = { start: startedAt, end: Date.now() / 1000, step: 1 };
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  /** Runs one site: no error, and data where the families are exported. Returns the problems found. */
  async function check(site: QuerySite): Promise<string[]> {
    const problems: string[] = [];
    const where = `${site.kind} ${site.where}`;
    if (site.kind === "variable") {
      const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(site.expr);
      if (!m) return [`${where}: not label_values(metric, label): ${site.expr}`];
      const values = await stack.prometheusGet<string[]>(
        `/api/v1/label/${m[2]}/values?${new URLSearchParams({ "match[]": m[1] as string })}`,
      );
      if (values.length === 0 && expectsData(m[1] as string)) problems.push(`${where}: no values`);
      return problems;
    }
    const expr = interpolate(site.expr);
    const hasData = (result: Awaited<ReturnType<ObservedStack["query"]>>) =>
      result.some((series) => (series.values ?? []).some(([, v]) => v !== "NaN"));
    /** A blank where data is expected is a problem, unless it is a known gap; a known gap with data is closed. */
    const judge = (e: string, data: boolean, what: string) => {
      const gap = knownBlank(e);
      if (gap && data) problems.push(`${where}: ${what} returns data now: remove "${gap.match}" from KNOWN_BLANK`);
      if (!gap && !data && expectsData(e)) problems.push(`${where}: no data for ${what} ${e}`);
    };
    try {
      const result = await stack.query(expr, window);
      if (!isFilter(expr)) judge(expr, hasData(result), "");
    } catch (error) {
      return [`${where}: ${error instanceof Error ? error.message : String(error)} in ${expr}`];
    }
    if (isFilter(expr)) {
      for (const probe of probesOf(expr)) {
        try {
          judge(probe, hasData(await stack.query(probe, window)), "operand");
        } catch (error) {
          problems.push(`${where}: operand ${probe}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    return problems;
  }

  const kinds = [["panel", "annotation", "variable"], ["recording rule", "alerting rule"], ["grafana rule"]] as const;
  for (const group of kinds) {
    it(`${group.join(", ")} queries run without error and return data`, async () => {
      const mine = sites.filter((s) => (group as readonly string[]).includes(s.kind));
      expect(mine.length).toBeGreaterThan(0);
      const problems = (await Promise.all(mine.map(check))).flat();
      expect(problems).toEqual([]);
    });
  }

  it("Prometheus evaluates every loaded rule without error", async () => {
    const data = await stack.prometheusGet<{
      groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }>;
    }>("/api/v1/rules");
    const rules = data.groups.flatMap((g) => g.rules);
    expect(rules.length).toBe(sites.filter((s) => s.kind === "recording rule" || s.kind === "alerting rule").length);
    expect(rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`)).toEqual(
      [],
    );
  });

  it("the expected-data list is what the stack exports (extend it when a family lands)", async () => {
    const names = new Set(await stack.prometheusGet<string[]>("/api/v1/label/__name__/values"));
    const exported = (family: string) =>
      ["", "_bucket", "_count", "_sum"].some((suffix) => names.has(`${family}${suffix}`));
    const referenced = new Set(sites.flatMap((s) => sourceFamilies(s.expr)));
    const landed = [...referenced].filter((f) => !EXPECTED_FAMILIES.has(f) && exported(f));
    expect(landed, "exported now: add to EXPECTED_FAMILIES in e2e/test/promql.test.ts").toEqual([]);
    const missing = [...EXPECTED_FAMILIES].filter((f) => !exported(f));
    expect(missing, "listed as exported, but Prometheus has never seen them").toEqual([]);
    const unreferenced = [...EXPECTED_FAMILIES].filter((f) => !referenced.has(f));
    expect(unreferenced, "listed but no dashboard or rule reads them").toEqual([]);
  });
});
