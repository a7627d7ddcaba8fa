/** Surge / Overview, the on-call's first screen: orders in vs out, the queue and its age, latency, the fleet. */
import { AnnotationQueryBuilder, type DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import {
  DASHBOARDS,
  DATASOURCE,
  dashboard,
  histogramQuantile,
  JOBS,
  OVERVIEW_PANEL_IDS,
  percentileTargets,
  QUEUE_AGE,
  row,
  stat,
  timeseries,
  UNITS,
} from "../common.js";
import { RECORDED } from "../prometheus/rules.js";

const ageThresholds = [
  { value: QUEUE_AGE.warningSeconds, color: "orange" },
  { value: QUEUE_AGE.criticalSeconds, color: "red" },
] as const;

/** Annotation queries are filters (`> 0`): only the moments something happened become marks. */
const OVERVIEW_ANNOTATIONS = {
  bursts: "max(surge_burst_active) > 0",
  scaleActions: "sum by (direction, actor) (increase(surge_autoscaler_scaling_actions_total[1m])) > 0",
} as const;

export function overviewDashboard(): DashboardBuilder {
  return dashboard({
    uid: DASHBOARDS.overview.uid,
    title: DASHBOARDS.overview.title,
    description: "Orders in vs out, the queue, the age of the oldest waiting order, latency and the worker fleet.",
  })
    .annotation(
      new AnnotationQueryBuilder()
        .name("Bursts")
        .datasource(DATASOURCE)
        .expr(OVERVIEW_ANNOTATIONS.bursts)
        .titleFormat("Flash-sale burst running")
        .step("5s")
        .enable(true)
        .iconColor("purple"),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name("Scale actions")
        .datasource(DATASOURCE)
        .expr(OVERVIEW_ANNOTATIONS.scaleActions)
        .titleFormat("Scaled {{direction}} ({{actor}})")
        .step("30s")
        .enable(true)
        .iconColor("orange"),
    )
    .withRow(row(1, "Now"))
    .withPanel(
      stat({
        id: 2,
        title: "Accepted",
        description: "Orders durably recorded per second (sync + async), over the last minute.",
        unit: UNITS.ordersPerSecond,
        targets: [{ expr: `sum(${RECORDED.acceptedRate})` }],
        w: 4,
        decimals: 1,
      }),
    )
    .withPanel(
      stat({
        id: 3,
        title: "Paid from the queue",
        description: "Async orders paid per second by worker tasks and Lambda, over the last minute.",
        unit: UNITS.ordersPerSecond,
        targets: [{ expr: `sum(${RECORDED.paidRate})` }],
        w: 4,
        decimals: 1,
      }),
    )
    .withPanel(
      stat({
        id: 4,
        title: "Waiting in the queue",
        description: "Messages visible in the orders queue (SQS ApproximateNumberOfMessages): not yet picked up.",
        unit: UNITS.count,
        targets: [{ expr: `sum(surge_queue_messages{queue="orders",state="visible"})` }],
        w: 4,
      }),
    )
    .withPanel(
      stat({
        id: 5,
        title: "Dead letters",
        description: "Messages in the DLQ. Any is a problem to look at: GET /ops/dlq, then redrive.",
        unit: UNITS.count,
        targets: [{ expr: `sum(surge_queue_messages{queue="dlq"})` }],
        w: 4,
        thresholds: [{ value: 1, color: "red" }],
      }),
    )
    .withPanel(
      stat({
        id: 6,
        title: "Oldest waiting order",
        description:
          "Age of the oldest accepted async order not yet paid (exact, from the order store). Pages at 60 s.",
        unit: UNITS.seconds,
        targets: [{ expr: "max(surge_queue_oldest_order_age_seconds)" }],
        w: 4,
        thresholds: ageThresholds,
      }),
    )
    .withPanel(
      stat({
        id: 7,
        title: "Tasks running",
        description: "Worker tasks the scheduler reports running (local supervisor or ECS service).",
        unit: UNITS.count,
        targets: [{ expr: "max(surge_fleet_running_tasks)" }],
        w: 4,
      }),
    )
    .withRow(row(8, "Flow"))
    .withPanel(
      timeseries({
        id: 9,
        title: "Accepted vs paid",
        description:
          "Orders in (by mode) against orders paid from the queue (by path). While accepted async is above paid, " +
          "the queue grows; the gap is how many tasks are missing (each pays PAYMENT_SLOTS / payment time per second).",
        unit: UNITS.ordersPerSecond,
        targets: [
          { expr: RECORDED.acceptedRate, legend: "accepted {{mode}}" },
          { expr: RECORDED.paidRate, legend: "paid via {{via}}" },
          {
            expr: "sum by (reason) (rate(surge_orders_rejected_total[$__rate_interval]))",
            legend: "rejected {{reason}}",
          },
        ],
        axisLabel: "orders/s",
      }),
    )
    .withPanel(
      timeseries({
        id: 10,
        title: "Queue messages",
        description:
          "The orders queue by state (visible = waiting, in_flight = held by a worker, delayed = retry back-off) " +
          "and the dead-letter queue. Approximate, as SQS reports them.",
        unit: UNITS.count,
        targets: [
          { expr: `sum by (state) (surge_queue_messages{queue="orders"})`, legend: "{{state}}" },
          { expr: `sum(surge_queue_messages{queue="dlq"})`, legend: "dead letters" },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: OVERVIEW_PANEL_IDS.oldestOrderAge,
        title: "Oldest waiting order",
        description:
          "Exact age of the oldest unpaid async order, from the order store: it includes orders still in the " +
          "outbox, which SQS cannot see. On AWS, SQS's ApproximateAgeOfOldestMessage is drawn beside it. " +
          "The dashed lines are where the queue-age alerts fire (warning, critical).",
        unit: UNITS.seconds,
        targets: [
          { expr: "max(surge_queue_oldest_order_age_seconds)", legend: "oldest order (store)" },
          {
            expr: `max(surge_queue_oldest_message_age_seconds{queue="orders"})`,
            legend: "oldest message (SQS, approximate)",
          },
        ],
        thresholds: ageThresholds,
      }),
    )
    .withPanel(
      timeseries({
        id: 11,
        title: "End-to-end latency",
        description: "From the order's 202 to its payment, over the last minute: what the customer actually waits.",
        unit: UNITS.seconds,
        targets: [
          { expr: `${RECORDED.endToEndQuantile}{quantile="0.5"}`, legend: "p50" },
          { expr: `${RECORDED.endToEndQuantile}{quantile="0.9"}`, legend: "p90" },
          { expr: `${RECORDED.endToEndQuantile}{quantile="0.99"}`, legend: "p99" },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 13,
        title: "Order request latency",
        description:
          "POST /orders answer time. Async answers after the durable write (the study: 110 ms); " +
          "sync waits for a payment slot and the payment (the study: 10–12 s under a flash sale).",
        unit: UNITS.seconds,
        targets: percentileTargets(
          [0.5, 0.99],
          `surge_http_request_duration_seconds_bucket{route=~"/orders/.+",method="POST"}`,
          { by: "route", legendSuffix: " {{route}}" },
        ),
      }),
    )
    .withPanel(
      timeseries({
        id: 14,
        title: "Orders by status",
        description: "Every order in the store by status: queued and processing rise in a burst and drain after.",
        unit: UNITS.count,
        targets: [{ expr: "sum by (status) (surge_orders)", legend: "{{status}}" }],
      }),
    )
    .withRow(row(15, "Fleet"))
    .withPanel(
      timeseries({
        id: 16,
        title: "Worker tasks",
        description:
          "Desired, running and pending tasks as the scheduler reports them, the MAX_WORKER_TASKS ceiling, " +
          "and how many tasks answer Prometheus' scrapes.",
        unit: UNITS.count,
        targets: [
          { expr: "max(surge_fleet_desired_tasks)", legend: "desired" },
          { expr: "max(surge_fleet_running_tasks)", legend: "running" },
          { expr: "max(surge_fleet_pending_tasks)", legend: "pending" },
          { expr: "max(surge_fleet_max_tasks)", legend: "maximum" },
          { expr: `sum(up{job="${JOBS.workers}"})`, legend: "answering scrapes" },
        ],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 17,
        title: "Backlog per task",
        description:
          "Visible messages per running task: the target-tracking signal the autoscaler holds at its target " +
          "(recorded from the queue and the fleet, and as the API computes it).",
        unit: UNITS.count,
        targets: [
          { expr: RECORDED.backlogPerTask, legend: "recorded" },
          { expr: "max(surge_queue_backlog_per_task)", legend: "API" },
        ],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 18,
        title: "Drain ETA",
        description: "How long the current backlog takes to pay at the current paid rate (no new arrivals).",
        unit: UNITS.seconds,
        targets: [{ expr: "max(surge_queue_drain_eta_seconds)", legend: "drain ETA" }],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 19,
        title: "Scaling actions",
        description: "Desired-count changes by direction and by who made them (an operator or the autoscaler).",
        unit: UNITS.count,
        targets: [
          {
            expr: "sum by (direction, actor) (increase(surge_autoscaler_scaling_actions_total[$__rate_interval]))",
            legend: "{{direction}} by {{actor}}",
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 20,
        title: "Sync payments in the API",
        description:
          "The API's own payment slots, used by POST /orders/sync: the study's wall. When in use reaches the " +
          "slots, further sync orders wait in line, and the sync latency climbs.",
        unit: UNITS.count,
        targets: [
          { expr: `max(surge_payment_slots{job="${JOBS.api}"})`, legend: "slots" },
          { expr: `max(surge_payment_slots_in_use{job="${JOBS.api}"})`, legend: "in use" },
          { expr: `max(surge_payment_waiters{job="${JOBS.api}"})`, legend: "waiting for a slot" },
        ],
      }),
    )
    .withRow(row(21, "Outbox and bursts"))
    .withPanel(
      timeseries({
        id: 22,
        title: "Outbox pending",
        description: "Accepted async orders not yet published to SNS. Near 0 unless SNS is slow or failing.",
        unit: UNITS.count,
        targets: [{ expr: "max(surge_outbox_pending)", legend: "pending rows" }],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 23,
        title: "Outbox lag",
        description:
          "Age of the oldest unpublished row, and the p99 time from an order's outbox write to SNS accepting it.",
        unit: UNITS.seconds,
        targets: [
          { expr: "max(surge_outbox_oldest_age_seconds)", legend: "oldest unpublished" },
          {
            expr: histogramQuantile(0.99, "surge_outbox_publish_latency_seconds_bucket"),
            legend: "p99 publish latency",
          },
        ],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 24,
        title: "Burst load",
        description: "Requests the burst generator sends, by mode and result, and its simulated users.",
        unit: UNITS.requestsPerSecond,
        targets: [
          {
            expr: "sum by (mode, result) (rate(surge_burst_requests_total[$__rate_interval]))",
            legend: "{{mode}} {{result}}",
          },
        ],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 26,
        title: "Customer-seen latency",
        description:
          "Answer time the burst's simulated customers measure, client side: the study's Locust figure " +
          "(sync 10.7 s average under a flash sale, async 110 ms).",
        unit: UNITS.seconds,
        targets: percentileTargets([0.5, 0.99], "surge_burst_request_duration_seconds_bucket", {
          by: "mode",
          legendSuffix: " {{mode}}",
        }),
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 25,
        title: "Burst users",
        description: "Simulated users of the running burst (they ramp up at the spawn rate).",
        unit: UNITS.count,
        targets: [{ expr: "sum(surge_burst_users)", legend: "users" }],
        w: 8,
        h: 6,
      }),
    );
}
