/**
 * Prometheus recording and alerting rules, as data: the generator renders them, and tests render
 * the alerts again with short thresholds to watch them fire in a real Prometheus.
 */
import { stringify } from "yaml";
import { DASHBOARDS, histogramQuantile, JOBS, QUEUE_AGE } from "../common.js";

interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "warning" | "critical" };
  annotations: { summary: string; description: string; runbook: string; dashboard: string };
}

interface RuleGroup<R> {
  name: string;
  rules: R[];
}

/** The rate window of every recorded rate: 4 scrapes at the local 15 s fallback, 12 at the local 5 s. */
const RATE_WINDOW = "1m";

/** The end-to-end latency quantiles recorded (and drawn on the Overview). */
const END_TO_END_QUANTILES = ["0.5", "0.9", "0.99"] as const;

/** Recorded series names, referenced by panels and alerts. */
export const RECORDED = {
  acceptedRate: "surge:orders_accepted:rate1m",
  processedRate: "surge:orders_processed:rate1m",
  paidRate: "surge:orders_paid:rate1m",
  taskProcessedRate: "task:surge_worker_orders_processed:rate1m",
  backlogPerTask: "surge:queue_backlog_per_task",
  endToEndQuantile: "surge:order_end_to_end_seconds:quantile_rate1m",
} as const;

export function recordingRules(): RuleGroup<RecordingRule> {
  return {
    name: "surge-recording",
    rules: [
      // Orders in: everything the API durably accepted, by mode (sync is paid in the request, async goes to the queue).
      {
        record: RECORDED.acceptedRate,
        expr: `sum by (mode) (rate(surge_orders_accepted_total[${RATE_WINDOW}]))`,
      },
      // Orders out of the workers, by outcome (paid, retry, dead_lettered…).
      {
        record: RECORDED.processedRate,
        expr: `sum by (outcome) (rate(surge_worker_orders_processed_total[${RATE_WINDOW}]))`,
      },
      // Orders paid from the queue, by where they were processed. `via` keeps the two
      // paths apart (and lets `sum()` add them): `or` alone would drop one of two
      // label-less vectors. Lambda reports invocations, not payments: one SNS record per
      // invocation, a successful one is an order paid (or a duplicate delivery found paid).
      {
        record: RECORDED.paidRate,
        expr:
          `label_replace(sum(rate(surge_worker_orders_processed_total{outcome="paid"}[${RATE_WINDOW}])), "via", "workers", "", "")` +
          ` or label_replace(sum(rate(surge_lambda_invocations_total{outcome="success"}[${RATE_WINDOW}])), "via", "lambda", "", "")`,
      },
      {
        record: RECORDED.taskProcessedRate,
        expr: `sum by (task, outcome) (rate(surge_worker_orders_processed_total[${RATE_WINDOW}]))`,
      },
      // The autoscaling signal AWS recommends for queue workers: messages waiting per running task.
      // With no task running the whole backlog is "per task" (divided by 1, not by 0).
      {
        record: RECORDED.backlogPerTask,
        expr: `sum(surge_queue_messages{queue="orders",state="visible"}) / clamp_min(max(surge_fleet_running_tasks), 1)`,
      },
      ...END_TO_END_QUANTILES.map((q) => ({
        record: RECORDED.endToEndQuantile,
        expr: histogramQuantile(Number(q), "surge_order_end_to_end_seconds_bucket", { window: RATE_WINDOW }),
        labels: { quantile: q },
      })),
    ],
  };
}

/** Thresholds and `for` durations of the alerting rules; tests shorten them. */
export interface AlertParams {
  queueAgeWarningSeconds: number;
  queueAgeWarningFor: string;
  queueAgeCriticalSeconds: number;
  queueAgeCriticalFor: string;
  deadLettersFor: string;
  slowerThanArrivalFor: string;
  workerTaskDownFor: string;
  fleetBelowDesiredFor: string;
  outboxStalledSeconds: number;
  outboxStalledFor: string;
  apiDownFor: string;
  /** How long orders must keep being refused by admission control before the alert fires. Default 1m. */
  ordersRefusedFor?: string;
}

export const DEFAULT_ALERT_PARAMS: AlertParams = {
  queueAgeWarningSeconds: QUEUE_AGE.warningSeconds,
  queueAgeWarningFor: "2m",
  queueAgeCriticalSeconds: QUEUE_AGE.criticalSeconds,
  // The age only grows while the oldest order waits: a minute above 5 min is not a blip.
  queueAgeCriticalFor: "1m",
  // SQS's approximate counts can be stale for a few seconds; a dead letter never leaves by itself.
  deadLettersFor: "1m",
  slowerThanArrivalFor: "5m",
  workerTaskDownFor: "1m",
  // Longer than a task's start-up and a crash-restart backoff: this is a fleet that cannot keep tasks up.
  fleetBelowDesiredFor: "5m",
  outboxStalledSeconds: 60,
  outboxStalledFor: "1m",
  apiDownFor: "1m",
  // A refusal is a customer turned away: a minute of them is not a blip, however deliberate.
  ordersRefusedFor: "1m",
};

// One heading per alert in the runbook, so each alert links to its own anchor.
const RUNBOOK = "docs/runbook.md";
const OVERVIEW = `/d/${DASHBOARDS.overview.uid}`;
const WORKERS = `/d/${DASHBOARDS.workers.uid}`;

export function alertingRules(params: AlertParams = DEFAULT_ALERT_PARAMS): RuleGroup<AlertingRule> {
  const age = "max(surge_queue_oldest_order_age_seconds)";
  return {
    name: "surge-alerts",
    rules: [
      {
        alert: "SurgeQueueAgeWarning",
        expr: `${age} > ${params.queueAgeWarningSeconds}`,
        for: params.queueAgeWarningFor,
        labels: { severity: "warning" },
        annotations: {
          summary: "Orders are waiting: the oldest unpaid order is {{ $value | humanizeDuration }} old",
          description:
            `An accepted order has waited more than ${params.queueAgeWarningSeconds} s for its payment ` +
            `for ${params.queueAgeWarningFor}. Processing is behind arrival: add worker tasks (PUT /ops/fleet) ` +
            "or check that autoscaling is on and below its maximum.",
          runbook: `${RUNBOOK}#surgequeueagewarning`,
          dashboard: OVERVIEW,
        },
      },
      {
        alert: "SurgeQueueAgeCritical",
        expr: `${age} > ${params.queueAgeCriticalSeconds}`,
        for: params.queueAgeCriticalFor,
        labels: { severity: "critical" },
        annotations: {
          summary: "Orders have waited {{ $value | humanizeDuration }} for payment",
          description:
            `The oldest unpaid order is over ${params.queueAgeCriticalSeconds} s old. Customers have been told ` +
            "their order is accepted and nothing has paid it: scale out now, then find out why processing stalled.",
          runbook: `${RUNBOOK}#surgequeueagecritical`,
          dashboard: OVERVIEW,
        },
      },
      {
        alert: "SurgeDeadLetters",
        expr: `sum(surge_queue_messages{queue="dlq"}) > 0`,
        for: params.deadLettersFor,
        labels: { severity: "warning" },
        annotations: {
          summary: "{{ $value }} order(s) in the dead-letter queue",
          description:
            "Orders failed every delivery attempt and were dead-lettered. They are not lost: read the reasons " +
            "(GET /ops/dlq), fix the cause, then redrive them (POST /ops/dlq/redrive).",
          runbook: `${RUNBOOK}#surgedeadletters`,
          dashboard: OVERVIEW,
        },
      },
      {
        alert: "SurgeProcessingSlowerThanArrival",
        expr:
          `sum(${RECORDED.acceptedRate}{mode="async"}) > sum(${RECORDED.paidRate})` +
          " and on () max(surge_fleet_desired_tasks) >= max(surge_fleet_max_tasks)",
        for: params.slowerThanArrivalFor,
        labels: { severity: "critical" },
        annotations: {
          summary: "Orders arrive faster than the fleet pays them, and the fleet is at its maximum size",
          description:
            `For ${params.slowerThanArrivalFor} async orders have arrived faster than workers and Lambda pay ` +
            "them while the desired task count is at MAX_WORKER_TASKS: the backlog only grows and scaling " +
            "cannot fix it. Raise the maximum, move processing to Lambda (PUT /ops/processing) or shed load.",
          runbook: `${RUNBOOK}#surgeprocessingslowerthanarrival`,
          dashboard: OVERVIEW,
        },
      },
      {
        alert: "SurgeWorkerTaskDown",
        expr: `up{job="${JOBS.workers}"} == 0`,
        for: params.workerTaskDownFor,
        labels: { severity: "warning" },
        annotations: {
          summary: "Worker task {{ $labels.task }} ({{ $labels.instance }}) does not answer scrapes",
          description:
            "The supervisor lists this task as running but its /metrics has not answered for " +
            `${params.workerTaskDownFor}: the process is hung or its event loop is blocked. Its orders come ` +
            "back to the queue when their visibility times out; stop the task (it will be replaced).",
          runbook: `${RUNBOOK}#surgeworkertaskdown`,
          dashboard: WORKERS,
        },
      },
      {
        alert: "SurgeFleetBelowDesired",
        expr: "max(surge_fleet_running_tasks) < max(surge_fleet_desired_tasks)",
        for: params.fleetBelowDesiredFor,
        labels: { severity: "warning" },
        annotations: {
          summary: "{{ $value }} worker task(s) running, fewer than desired",
          description:
            `For ${params.fleetBelowDesiredFor} the fleet has run fewer tasks than desired: tasks are crashing ` +
            "and being replaced, or cannot start. Read the task logs and surge_fleet_task_restarts_total.",
          runbook: `${RUNBOOK}#surgefleetbelowdesired`,
          dashboard: WORKERS,
        },
      },
      {
        alert: "SurgeOutboxStalled",
        expr:
          "max(surge_outbox_pending) > 0" +
          ` and on () (time() - max(surge_outbox_last_publish_timestamp_seconds)) > ${params.outboxStalledSeconds}`,
        for: params.outboxStalledFor,
        labels: { severity: "critical" },
        annotations: {
          summary: "Accepted orders are not being published to SNS",
          description:
            `Outbox rows are waiting and nothing has been published for over ${params.outboxStalledSeconds} s: ` +
            "accepted orders are not reaching the queue. Check the API log for PublishBatch errors and SNS.",
          runbook: `${RUNBOOK}#surgeoutboxstalled`,
          dashboard: OVERVIEW,
        },
      },
      {
        alert: "SurgeApiDown",
        // absent(): an API target missing from discovery must page too, or every API alert goes silent.
        expr: `up{job="${JOBS.api}"} == 0 or absent(up{job="${JOBS.api}"})`,
        for: params.apiDownFor,
        labels: { severity: "critical" },
        annotations: {
          summary: "The Surge API is not being scraped",
          description:
            `Prometheus has not scraped the API for ${params.apiDownFor}: orders are not accepted, and every ` +
            "alert on queue and outbox metrics is blind until it is back.",
          runbook: `${RUNBOOK}#surgeapidown`,
          dashboard: OVERVIEW,
        },
      },
      {
        alert: "SurgeOrdersRefused",
        expr: `sum by (reason) (rate(surge_orders_refused_total[${RATE_WINDOW}])) > 0`,
        for: params.ordersRefusedFor ?? "1m",
        labels: { severity: "warning" },
        annotations: {
          summary: 'Orders are being refused ({{ $labels.reason }}): {{ $value | printf "%.2f" }}/s',
          description:
            `For ${params.ordersRefusedFor ?? "1m"} admission control has turned orders away before recording ` +
            "them: limit (429, the projected wait is over the operator's limit), paused (503, intake paused) or " +
            "sync_wait (503, no payment slot within SYNC_MAX_WAIT_MS). Nothing accepted is lost; customers are " +
            "told to come back. Add capacity, or open intake again (GET/PUT /ops/intake).",
          runbook: `${RUNBOOK}#surgeordersrefused`,
          dashboard: OVERVIEW,
        },
      },
    ],
  };
}

const RULES_HEADER =
  "# Generated by `npm run -w grafana generate` from grafana/src/prometheus/rules.ts: edit the source, not this file.\n";

/** A Prometheus rule file (one group). Long expressions stay on one line, as promtool prints them. */
export function renderRuleFile(group: RuleGroup<RecordingRule> | RuleGroup<AlertingRule>): string {
  return RULES_HEADER + stringify({ groups: [group] }, { lineWidth: 0 });
}
