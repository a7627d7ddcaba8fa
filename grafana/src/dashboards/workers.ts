/** Surge / Workers: one line per task; throughput, the payment slots that bound it, restarts, the process. */
import {
  type DashboardBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DASHBOARDS, DATASOURCE, dashboard, JOBS, percentileTargets, row, timeseries, UNITS } from "../common.js";
import { RECORDED } from "../prometheus/rules.js";

/** The `task` variable's options: every task that has reported its concurrency. */
const TASK_VARIABLE_QUERY = "label_values(surge_worker_concurrency, task)";

const W = `job="${JOBS.workers}", task=~"$task"`;

export function workersDashboard(): DashboardBuilder {
  return dashboard({
    uid: DASHBOARDS.workers.uid,
    title: DASHBOARDS.workers.title,
    description: "Per-task throughput, payment slot use, concurrency, restarts and process health.",
  })
    .withVariable(
      new QueryVariableBuilder("task")
        .label("Task")
        .datasource(DATASOURCE)
        .query({ query: TASK_VARIABLE_QUERY, refId: "task" })
        .definition(TASK_VARIABLE_QUERY)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue(".+")
        .current({ text: "All", value: "$__all", selected: true }),
    )
    .withRow(row(1, "Throughput"))
    .withPanel(
      timeseries({
        id: 2,
        title: "Paid per task",
        description:
          "Orders each task pays per second. A task's ceiling is PAYMENT_SLOTS / payment time " +
          "(the study: 5 / 3 s = 1.67/s), whatever its concurrency.",
        unit: UNITS.ordersPerSecond,
        targets: [
          {
            expr: `sum by (task) (${RECORDED.taskProcessedRate}{outcome="paid", task=~"$task"})`,
            legend: "{{task}}",
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 3,
        title: "Outcomes",
        description:
          "How the selected tasks settled the orders they received: paid, duplicate (already paid), declined, " +
          "retry, deferred, dead_lettered, released (handed back on shutdown).",
        unit: UNITS.ordersPerSecond,
        targets: [{ expr: `sum by (outcome) (${RECORDED.taskProcessedRate}{task=~"$task"})`, legend: "{{outcome}}" }],
        stacked: true,
      }),
    )
    .withPanel(
      timeseries({
        id: 4,
        title: "Messages received",
        description: "Messages each task takes from the orders queue per second (long polling, up to 10 at a time).",
        unit: UNITS.eventsPerSecond,
        targets: [
          {
            expr: `sum by (task) (rate(surge_worker_messages_received_total{${W}}[$__rate_interval]))`,
            legend: "{{task}}",
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 5,
        title: "Processing time (paid)",
        description: "From receiving an order to settling it, slot wait included: the payment time plus the queueing.",
        unit: UNITS.seconds,
        targets: percentileTargets([0.5, 0.99], `surge_worker_processing_seconds_bucket{${W}, outcome="paid"}`),
      }),
    )
    .withRow(row(6, "Payment slots"))
    .withPanel(
      timeseries({
        id: 7,
        title: "Slots in use",
        description: "Payments running now in each task, against the slots a task has (PAYMENT_SLOTS).",
        unit: UNITS.count,
        targets: [
          { expr: `sum by (task) (surge_payment_slots_in_use{${W}})`, legend: "{{task}}" },
          { expr: `max(surge_payment_slots{${W}})`, legend: "slots per task" },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 8,
        title: "Slot utilisation",
        description:
          "Share of each task's payment slots in use. At 100 % more concurrency does not help (the study's " +
          "goroutine lesson): only more tasks do.",
        unit: UNITS.ratio,
        targets: [
          {
            expr: `sum by (task) (surge_payment_slots_in_use{${W}}) / sum by (task) (surge_payment_slots{${W}})`,
            legend: "{{task}}",
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 9,
        title: "Slot wait",
        description: "Time an order waited for a free payment slot inside its task.",
        unit: UNITS.seconds,
        targets: percentileTargets([0.5, 0.99], `surge_payment_slot_wait_seconds_bucket{${W}}`),
      }),
    )
    .withPanel(
      timeseries({
        id: 10,
        title: "Waiting for a slot",
        description: "Orders each task holds that wait in line for a payment slot (concurrency above the slots).",
        unit: UNITS.count,
        targets: [{ expr: `sum by (task) (surge_payment_waiters{${W}})`, legend: "{{task}}" }],
      }),
    )
    .withRow(row(11, "Concurrency and restarts"))
    .withPanel(
      timeseries({
        id: 12,
        title: "In flight vs concurrency",
        description:
          "Orders each task holds (waiting for a slot or paying) against the concurrency it may hold, and the " +
          "fleet's concurrency setting (PUT /ops/fleet changes it live).",
        unit: UNITS.count,
        targets: [
          { expr: `sum by (task) (surge_worker_orders_in_flight{${W}})`, legend: "in flight {{task}}" },
          { expr: `max(surge_worker_concurrency{${W}})`, legend: "task concurrency" },
          { expr: "max(surge_fleet_concurrency)", legend: "fleet setting" },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 13,
        title: "Task restarts",
        description: "Tasks that died without being asked to and were replaced by the scheduler.",
        unit: UNITS.count,
        targets: [
          { expr: "sum(increase(surge_fleet_task_restarts_total[$__rate_interval]))", legend: "restarts" },
          { expr: "max(surge_fleet_running_tasks)", legend: "running" },
          { expr: "max(surge_fleet_desired_tasks)", legend: "desired" },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 14,
        title: "Task uptime",
        description: "How long each task process has run: a restarted task starts again from 0 under a new id.",
        unit: UNITS.seconds,
        targets: [{ expr: `time() - max by (task) (process_start_time_seconds{${W}})`, legend: "{{task}}" }],
      }),
    )
    .withPanel(
      timeseries({
        id: 15,
        title: "Since last payment",
        description:
          "Time since each task last paid an order. Rising while the queue has messages means the task is stuck.",
        unit: UNITS.seconds,
        targets: [
          {
            expr: `time() - max by (task) (surge_worker_last_processed_timestamp_seconds{${W}} > 0)`,
            legend: "{{task}}",
          },
        ],
      }),
    )
    .withRow(row(16, "Process"))
    .withPanel(
      timeseries({
        id: 17,
        title: "CPU",
        description: "CPU time per second of each task process (1 = one core busy).",
        unit: UNITS.ratio,
        targets: [
          {
            expr: `sum by (task) (rate(process_cpu_seconds_total{${W}}[$__rate_interval]))`,
            legend: "{{task}}",
          },
        ],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 18,
        title: "Resident memory",
        description: "Resident set size of each task process.",
        unit: UNITS.bytes,
        targets: [{ expr: `max by (task) (process_resident_memory_bytes{${W}})`, legend: "{{task}}" }],
        w: 8,
      }),
    )
    .withPanel(
      timeseries({
        id: 19,
        title: "Event loop lag (p99)",
        description: "A blocked event loop delays heartbeats and scrapes alike: the first sign of a hung task.",
        unit: UNITS.seconds,
        targets: [{ expr: `max by (task) (nodejs_eventloop_lag_p99_seconds{${W}})`, legend: "{{task}}" }],
        w: 8,
      }),
    );
}
