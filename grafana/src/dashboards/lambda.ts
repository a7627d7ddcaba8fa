/** Surge / Lambda: cold vs warm starts, init duration, concurrency and environments, throttles and errors. */
import type { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import {
  DASHBOARDS,
  dashboard,
  histogramQuantile,
  percentileTargets,
  row,
  stat,
  timeseries,
  UNITS,
} from "../common.js";
import { RECORDED } from "../prometheus/rules.js";

/**
 * Cold starts are rare events: a 5-minute window gives the init percentiles
 * enough samples to mean something, where $__rate_interval would leave gaps.
 */
const INIT_WINDOW = "5m";
const INIT_BUCKETS = "surge_lambda_init_duration_seconds_bucket";

export function lambdaDashboard(): DashboardBuilder {
  return dashboard({
    uid: DASHBOARDS.lambda.uid,
    title: DASHBOARDS.lambda.title,
    description: "Lambda order processing: cold vs warm starts, init duration, concurrency, throttles and errors.",
  })
    .withRow(row(1, "Now"))
    .withPanel(
      stat({
        id: 2,
        title: "Invocations",
        description: "Invocations per second, cold and warm.",
        unit: UNITS.ordersPerSecond,
        targets: [{ expr: "sum(rate(surge_lambda_invocations_total[1m]))" }],
        w: 6,
        decimals: 1,
      }),
    )
    .withPanel(
      stat({
        id: 3,
        title: "Cold starts in range",
        description: "Invocations that had to create an execution environment first, over the dashboard's time range.",
        unit: UNITS.count,
        targets: [{ expr: `sum(increase(surge_lambda_invocations_total{start="cold"}[$__range]))` }],
        w: 6,
        decimals: 0,
      }),
    )
    .withPanel(
      stat({
        id: 4,
        title: "Init duration p99",
        description: "99th percentile of the time to initialise a new environment (the cold-start penalty).",
        unit: UNITS.seconds,
        targets: [{ expr: histogramQuantile(0.99, INIT_BUCKETS, { window: INIT_WINDOW }) }],
        w: 6,
      }),
    )
    .withPanel(
      stat({
        id: 5,
        title: "Concurrent executions",
        description: "Invocations running now (bounded by the function's reserved concurrency).",
        unit: UNITS.count,
        targets: [{ expr: "max(surge_lambda_concurrent_executions)" }],
        w: 6,
      }),
    )
    .withRow(row(6, "Starts"))
    .withPanel(
      timeseries({
        id: 7,
        title: "Cold vs warm invocations",
        description: "Invocations per second by start: cold ones pay the init duration first.",
        unit: UNITS.ordersPerSecond,
        targets: [
          {
            expr: "sum by (start) (rate(surge_lambda_invocations_total[$__rate_interval]))",
            legend: "{{start}}",
          },
        ],
        stacked: true,
      }),
    )
    .withPanel(
      timeseries({
        id: 8,
        title: "Cold-start ratio",
        description: "Share of invocations that started cold: high at a burst's start, near 0 once warm.",
        unit: UNITS.ratio,
        targets: [
          {
            expr:
              `sum(rate(surge_lambda_invocations_total{start="cold"}[${INIT_WINDOW}]))` +
              ` / sum(rate(surge_lambda_invocations_total[${INIT_WINDOW}]))`,
            legend: "cold share",
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 9,
        title: "Init duration",
        description: "Percentiles of the environment initialisation time (the study measured ~60 ms).",
        unit: UNITS.seconds,
        targets: percentileTargets([0.5, 0.9, 0.99], INIT_BUCKETS, { window: INIT_WINDOW }),
      }),
    )
    .withPanel(
      timeseries({
        id: 10,
        title: "Invocation duration",
        description: "Handler time per invocation, init excluded: dominated by the payment.",
        unit: UNITS.seconds,
        targets: percentileTargets([0.5, 0.99], "surge_lambda_duration_seconds_bucket"),
      }),
    )
    .withRow(row(11, "Capacity"))
    .withPanel(
      timeseries({
        id: 12,
        title: "Concurrency and environments",
        description:
          "Invocations running now against the reserved concurrency (beyond it, invocations are throttled), " +
          "and execution environments by state (idle ones serve warm starts).",
        unit: UNITS.count,
        targets: [
          { expr: "max(surge_lambda_concurrent_executions)", legend: "concurrent executions" },
          { expr: "max(surge_lambda_reserved_concurrency)", legend: "reserved concurrency" },
          { expr: "sum by (state) (surge_lambda_environments)", legend: "environments {{state}}" },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 13,
        title: "Throttles and errors",
        description:
          "Invocations refused at the reserved concurrency, invocations that failed, the asynchronous retries " +
          "they cause (by reason), and events given up on (to the DLQ after their attempts or maximum age).",
        unit: UNITS.eventsPerSecond,
        targets: [
          { expr: "sum(rate(surge_lambda_throttles_total[$__rate_interval]))", legend: "throttles" },
          { expr: "sum(rate(surge_lambda_errors_total[$__rate_interval]))", legend: "errors" },
          {
            expr: "sum by (reason) (rate(surge_lambda_async_retries_total[$__rate_interval]))",
            legend: "retries ({{reason}})",
          },
          { expr: "sum(rate(surge_lambda_dead_lettered_total[$__rate_interval]))", legend: "dead-lettered" },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 14,
        title: "Outcomes",
        description: "Invocations by outcome: success (the order is paid) or error (retried, then dead-lettered).",
        unit: UNITS.ordersPerSecond,
        targets: [
          {
            expr: "sum by (outcome) (rate(surge_lambda_invocations_total[$__rate_interval]))",
            legend: "{{outcome}}",
          },
        ],
        stacked: true,
      }),
    )
    .withPanel(
      timeseries({
        id: 16,
        title: "Environments ended",
        description:
          "Execution environments shut down, by reason: idle expiry (the next start is cold), timeout, crash, " +
          "failed init. Crashes and timeouts mean invocations lost their environment mid-order.",
        unit: UNITS.count,
        targets: [
          {
            expr: "sum by (reason) (increase(surge_lambda_environments_ended_total[$__rate_interval]))",
            legend: "{{reason}}",
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 17,
        title: "Events waiting",
        description: "Asynchronous events accepted and not yet settled: waiting, backing off, or being invoked.",
        unit: UNITS.count,
        targets: [{ expr: "max(surge_lambda_async_events_pending)", legend: "pending events" }],
      }),
    )
    .withPanel(
      timeseries({
        id: 15,
        title: "Paid: Lambda vs workers",
        description: "Orders paid from the queue per second by each path (PUT /ops/processing chooses).",
        unit: UNITS.ordersPerSecond,
        targets: [{ expr: RECORDED.paidRate, legend: "{{via}}" }],
      }),
    );
}
