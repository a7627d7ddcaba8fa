"use client";

import { useEffect, useState } from "react";
import { useLive, useLiveStore } from "../../client/live";
import { OpsError, ops } from "../../client/ops-client";
import { useOps } from "../../client/use-ops";
import {
  concurrencyJump,
  concurrencyProblem,
  controlStatement,
  desiredCountJump,
  desiredCountProblem,
  SCALE_CONFIRM_RULE,
} from "../../lib/controls";
import { ago, clock, count, num, seconds } from "../../lib/format";
import { type AutoscalingView, type FleetView, pick, type ScalingActivity } from "../../lib/ops";
import { NumberField } from "../fields";
import { useConsole, useNow } from "../Shell";
import { Schedules } from "../schedules/Schedules";
import {
  ConfirmDialog,
  Empty,
  ErrorBox,
  Loading,
  PageHead,
  ReadOnlyNote,
  Resource,
  Table,
  Tile,
  useAction,
} from "../ui";
import { AwsCallFailed, awsCallFailure } from "./AwsCallFailed";
import { CapacityPlanner } from "./CapacityPlanner";
import { OldestAgeField, oldestAgeHint, SignalBadge } from "./ScalingSignal";

function Stepper({
  id,
  value,
  onChange,
  min,
  max,
  disabled,
}: {
  id: string;
  value: number;
  onChange: (v: number) => void;
  min: number;
  max: number;
  disabled?: boolean;
}) {
  const clamp = (v: number) => Math.min(max, Math.max(min, v));
  return (
    <div className="stepper">
      <button
        type="button"
        aria-label="decrease"
        onClick={() => onChange(clamp(value - 1))}
        disabled={disabled || value <= min}
      >
        −
      </button>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        value={Number.isFinite(value) ? value : ""}
        onChange={(e) => onChange(e.target.value === "" ? Number.NaN : Number(e.target.value))}
        disabled={disabled}
        style={{ width: 90 }}
      />
      <button
        type="button"
        aria-label="increase"
        onClick={() => onChange(clamp(value + 1))}
        disabled={disabled || value >= max}
      >
        +
      </button>
    </div>
  );
}

/** Desired count and per-task concurrency, with the bounds, and a confirmation on big jumps. */
function FleetControls({ fleet, autoscaling }: { fleet: FleetView; autoscaling: AutoscalingView | undefined }) {
  const { canOperate } = useConsole();
  const [desired, setDesired] = useState(fleet.desiredCount);
  const [concurrency, setConcurrency] = useState(fleet.concurrency);
  const [dirty, setDirty] = useState(false);
  const [confirm, setConfirm] = useState<string[]>();
  const { busy, notice, run } = useAction();

  // Follow the live values until the operator starts editing.
  useEffect(() => {
    if (!dirty) {
      setDesired(fleet.desiredCount);
      setConcurrency(fleet.concurrency);
    }
  }, [fleet.desiredCount, fleet.concurrency, dirty]);

  const countProblem = desiredCountProblem(desired, fleet.maxTasks);
  const concurrencyIssue = concurrencyProblem(concurrency, fleet.maxConcurrency);
  const countValid = countProblem === undefined;
  const concurrencyValid = concurrencyIssue === undefined;
  const changed = desired !== fleet.desiredCount || concurrency !== fleet.concurrency;

  const send = () => {
    setConfirm(undefined);
    const body: Record<string, number> = {};
    if (desired !== fleet.desiredCount) body.desiredCount = desired;
    if (concurrency !== fleet.concurrency) body.concurrency = concurrency;
    return run(async () => {
      const after = await ops.put<FleetView>("/fleet", body);
      setDirty(false);
      return `Asked for ${after.desiredCount} task${after.desiredCount === 1 ? "" : "s"} × concurrency ${after.concurrency}. ${
        body.desiredCount !== undefined && autoscaling?.enabled
          ? "You control the count now: dynamic scaling is suspended until you hand control back."
          : autoscaling?.controlledBy === "autoscaler"
            ? "The autoscaler still controls the count."
            : ""
      }`;
    });
  };

  const apply = () => {
    const reasons = [
      desiredCountJump(fleet.desiredCount, desired),
      concurrencyJump(fleet.concurrency, concurrency, undefined),
    ].flatMap((c) => (c.big && c.reason ? [c.reason] : []));
    if (desired !== fleet.desiredCount && autoscaling?.controlledBy === "autoscaler") {
      reasons.push("The autoscaler controls the count now: setting it by hand suspends dynamic scaling.");
    }
    if (reasons.length > 0) setConfirm(reasons);
    else void send();
  };

  // The confirmation is a sibling of the form, not inside it: a form nested in a form submits both.
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (changed && countValid && concurrencyValid) apply();
        }}
        aria-label="Scale the fleet"
      >
        <div className="row" style={{ alignItems: "flex-end", gap: 20 }}>
          <div className="field">
            <label htmlFor="desired-count">Desired tasks</label>
            <Stepper
              id="desired-count"
              value={desired}
              min={0}
              max={fleet.maxTasks}
              disabled={!canOperate}
              onChange={(v) => {
                setDesired(v);
                setDirty(true);
              }}
            />
            <span className={countValid ? "help" : "problem"} data-testid="desired-count-help">
              {countProblem ?? `a whole number from 0 to ${fleet.maxTasks} (MAX_WORKER_TASKS)`}
            </span>
          </div>
          <div className="field">
            <label htmlFor="concurrency">Concurrency per task</label>
            <Stepper
              id="concurrency"
              value={concurrency}
              min={1}
              max={fleet.maxConcurrency}
              disabled={!canOperate}
              onChange={(v) => {
                setConcurrency(v);
                setDirty(true);
              }}
            />
            <span className={concurrencyValid ? "help" : "problem"}>
              {concurrencyIssue ?? `1–${fleet.maxConcurrency} messages in flight per task`}
            </span>
          </div>
          <div className="row">
            <button
              type="submit"
              className="primary"
              disabled={!canOperate || busy || !changed || !countValid || !concurrencyValid}
            >
              {busy ? "Applying…" : "Apply"}
            </button>
            {dirty && (
              <button type="button" className="ghost" onClick={() => setDirty(false)}>
                Reset to live
              </button>
            )}
          </div>
        </div>
        <p className="faint small" data-testid="scale-confirm-rule" style={{ marginBottom: 0 }}>
          {SCALE_CONFIRM_RULE}
        </p>
        <div style={{ marginTop: 10 }}>{notice}</div>
      </form>
      <ConfirmDialog
        open={confirm !== undefined}
        title="Confirm a big change"
        confirmLabel={`Scale to ${desired} × ${concurrency}`}
        onConfirm={() => void send()}
        onCancel={() => setConfirm(undefined)}
      >
        <ul>
          {confirm?.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      </ConfirmDialog>
    </>
  );
}

function ControlOwner({ autoscaling }: { autoscaling: AutoscalingView }) {
  const { canOperate } = useConsole();
  const { busy, notice, run } = useAction();
  const now = useNow();
  const handBack = () =>
    run(async () => {
      await ops.put("/autoscaling", { enabled: true });
      return "The autoscaler controls the desired count again.";
    });
  return (
    <div className="stack">
      <p style={{ margin: 0 }}>
        The desired count is set by{" "}
        <strong data-testid="controlled-by">
          {autoscaling.controlledBy === "autoscaler" ? "the autoscaler" : "an operator"}
        </strong>
        {autoscaling.suspended && (
          <>
            {" "}
            — {autoscaling.suspended.by} took it{" "}
            <span suppressHydrationWarning>{ago(autoscaling.suspended.at, now)}</span>: {autoscaling.suspended.reason}
          </>
        )}
        {autoscaling.controlledBy === "operator" &&
          !autoscaling.suspended &&
          !autoscaling.enabled &&
          " (dynamic scaling is off)"}
        .
      </p>
      {autoscaling.controlledBy === "operator" && (
        <button type="button" onClick={() => void handBack()} disabled={!canOperate || busy}>
          Hand control to the autoscaler
        </button>
      )}
      {notice}
    </div>
  );
}

type PolicyDraft = Pick<
  AutoscalingView,
  | "enabled"
  | "minTasks"
  | "maxTasks"
  | "targetBacklogPerTask"
  | "scaleOutCooldownSeconds"
  | "scaleInCooldownSeconds"
  | "targetOldestAgeSeconds"
>;

function PolicyEditor({ autoscaling, maxTasks }: { autoscaling: AutoscalingView; maxTasks: number }) {
  const { canOperate } = useConsole();
  const live: PolicyDraft = {
    enabled: autoscaling.enabled,
    minTasks: autoscaling.minTasks,
    maxTasks: autoscaling.maxTasks,
    targetBacklogPerTask: autoscaling.targetBacklogPerTask,
    scaleOutCooldownSeconds: autoscaling.scaleOutCooldownSeconds,
    scaleInCooldownSeconds: autoscaling.scaleInCooldownSeconds,
    targetOldestAgeSeconds: autoscaling.targetOldestAgeSeconds,
  };
  const [draft, setDraft] = useState<PolicyDraft>(live);
  const [dirty, setDirty] = useState(false);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const { busy, notice, run } = useAction();
  const liveKey = JSON.stringify(live);
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the live policy (by value) until edited
  useEffect(() => {
    if (!dirty) setDraft(live);
  }, [liveKey, dirty]);

  const set = (patch: Partial<PolicyDraft>) => {
    setDraft({ ...draft, ...patch });
    setDirty(true);
    setProblems({});
  };
  const save = () =>
    run(
      async () => {
        await ops.put("/autoscaling", draft);
        setDirty(false);
        return "Policy saved.";
      },
      (e) => {
        if (e instanceof OpsError) setProblems(Object.fromEntries(e.details.map((d) => [d.field, d.message])));
      },
    );
  const field = (
    key: Exclude<keyof PolicyDraft, "enabled" | "targetOldestAgeSeconds">,
    label: string,
    unit: string,
    help: string,
  ) => (
    <NumberField
      id={`policy-${key}`}
      name={key}
      label={label}
      unit={unit}
      value={draft[key]}
      onChange={(v) => set({ [key]: v })}
      problem={problems[key]}
      help={help}
      disabled={!canOperate}
    />
  );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      aria-label="Autoscaling policy"
    >
      <label className="check" style={{ marginBottom: 12 }}>
        <input
          type="checkbox"
          checked={draft.enabled}
          onChange={(e) => set({ enabled: e.target.checked })}
          disabled={!canOperate}
        />
        Autoscale (target tracking on backlog per task, and on the oldest order's age when set)
      </label>
      <div className="fields">
        {field("minTasks", "Min tasks", "tasks", `0–${maxTasks}`)}
        {field("maxTasks", "Max tasks", "tasks", `1–${maxTasks}`)}
        {field("targetBacklogPerTask", "Target backlog", "orders/task", "orders waiting per running task")}
        {field("scaleOutCooldownSeconds", "Scale-out cooldown", "s", "between scale-outs")}
        {field("scaleInCooldownSeconds", "Scale-in cooldown", "s", "and the window a scale-in respects")}
        <OldestAgeField
          value={draft.targetOldestAgeSeconds}
          onChange={(v) => set({ targetOldestAgeSeconds: v })}
          problem={problems.targetOldestAgeSeconds}
          disabled={!canOperate}
        />
      </div>
      <div className="row" style={{ marginTop: 12 }}>
        <button type="submit" className="primary" disabled={!canOperate || busy || !dirty}>
          {busy ? "Saving…" : "Save policy"}
        </button>
        {dirty && (
          <button type="button" className="ghost" onClick={() => setDirty(false)}>
            Discard
          </button>
        )}
        <span className="faint small">
          At 3 s payments and 5 slots a task pays 1.67 orders/s, so a target of {num(draft.targetBacklogPerTask)} ≈{" "}
          {seconds(draft.targetBacklogPerTask / (5 / 3))} in the queue.
        </span>
      </div>
      <div style={{ marginTop: 10 }}>{notice}</div>
    </form>
  );
}

function Activities() {
  const activities = useOps<{ activities: ScalingActivity[] }>("/scaling-activities?limit=50", 3000);
  // AWS's failure (or an endpoint that lacks DescribeScalingActivities) is shown here, in place.
  const failed = activities.data === undefined ? awsCallFailure(activities.error) : undefined;
  if (failed) {
    return <AwsCallFailed error={failed} what="scaling activities" retry={() => void activities.refresh()} />;
  }
  return (
    <Resource resource={activities} what="scaling activities">
      {(data) =>
        data.activities.length === 0 ? (
          <Empty>No scaling activity yet.</Empty>
        ) : (
          <Table label="Scaling activities" columns={["When", "Who", "Change", "Status", "Cause"]} maxHeight={420}>
            {data.activities.map((a) => (
              <tr key={a.id} data-testid="activity-row">
                <td className="mono">{clock(a.at)}</td>
                <td>
                  <span className={`badge ${a.actor === "autoscaler" ? "info" : ""}`}>{a.actor}</span>
                </td>
                <td className="num">{a.direction === "none" ? "—" : `${a.from ?? "?"} → ${a.to ?? "?"}`}</td>
                <td>{a.status}</td>
                <td className="small">
                  <SignalBadge activity={a} /> {a.cause}
                </td>
              </tr>
            ))}
          </Table>
        )
      }
    </Resource>
  );
}

function TaskTable({ tasks }: { tasks: FleetView["tasks"] }) {
  const now = useNow();
  return tasks.length === 0 ? (
    <Empty>No tasks: nothing is consuming the queue.</Empty>
  ) : (
    <Table
      label="Worker tasks"
      columns={["Task", "Status", "Up", { label: "In flight", num: true }, { label: "Processed", num: true }]}
      maxHeight={360}
    >
      {tasks.map((t) => (
        <tr key={t.taskId} data-testid="task-row">
          <td className="mono">
            {t.taskId}
            {t.revision && <span className="faint"> {t.revision}</span>}
          </td>
          <td>
            <span className={`badge ${t.status === "running" ? "ok" : t.status === "pending" ? "info" : "warning"}`}>
              {t.status}
            </span>
          </td>
          <td className="small" suppressHydrationWarning>
            {ago(t.startedAt, now).replace(" ago", "")}
          </td>
          <td className="num">{t.inFlight === undefined ? "—" : count(t.inFlight)}</td>
          <td className="num">{t.processed === undefined ? "—" : count(t.processed)}</td>
        </tr>
      ))}
    </Table>
  );
}

export function Workers() {
  const { state } = useLive();
  const store = useLiveStore();
  const now = useNow();
  const fleet = pick(state, "fleet");
  const autoscaling = pick(state, "autoscaling");
  const queue = pick(state, "queue");
  const fleetError = state?.fleet && !fleet ? (state.fleet as { error?: string }).error : undefined;

  return (
    <>
      <PageHead
        title="Workers"
        sub="the fleet of worker tasks, who sizes it, and how big it should be"
        dashboard="workers"
      />
      <ReadOnlyNote />
      {fleet && (
        <div
          className={`banner ${autoscaling?.controlledBy === "autoscaler" ? "info" : "warning"} small`}
          role="status"
          data-testid="control-banner"
        >
          {controlStatement(autoscaling, fleet.desiredCount)}
        </div>
      )}
      {!state ? (
        <Loading label="Waiting for the first snapshot…" />
      ) : fleetError ? (
        <ErrorBox error={new Error(fleetError)} what="the fleet" />
      ) : !fleet ? (
        <Empty>This API reports no fleet.</Empty>
      ) : (
        <>
          <div className="tiles">
            <Tile
              testId="workers-running"
              label="Running"
              value={count(fleet.running)}
              hint={`of ${fleet.desiredCount} desired`}
            />
            <Tile label="Starting" value={count(fleet.pending)} hint="not yet consuming" />
            <Tile label="Stopping" value={count(fleet.stopping)} hint="draining in-flight orders" />
            <Tile
              label="Concurrency"
              value={count(fleet.concurrency)}
              hint="messages per task"
              testId="workers-concurrency"
            />
            <Tile
              label="Restarts"
              value={count(fleet.restarts)}
              hint="died unasked, replaced"
              severity={fleet.restarts > 0 ? "warning" : "ok"}
            />
            <Tile
              label="Backlog per task"
              value={
                autoscaling && "backlogPerTask" in autoscaling.signals ? num(autoscaling.signals.backlogPerTask) : "—"
              }
              hint={autoscaling ? `target ${num(autoscaling.targetBacklogPerTask)}` : ""}
            />
            <Tile
              label="Oldest waiting"
              value={
                autoscaling && "oldestAgeSeconds" in autoscaling.signals
                  ? seconds(autoscaling.signals.oldestAgeSeconds)
                  : "—"
              }
              hint={
                autoscaling && "oldestAgeSeconds" in autoscaling.signals
                  ? oldestAgeHint(autoscaling.targetOldestAgeSeconds)
                  : "for a task"
              }
              testId="workers-oldest-age"
            />
          </div>
          <div className="grid two">
            <section className="panel" aria-labelledby="scale-title">
              <h2 id="scale-title">Scale</h2>
              <FleetControls fleet={fleet} autoscaling={autoscaling} />
              {autoscaling && (
                <div style={{ marginTop: 12 }}>
                  <h3>Who controls the count</h3>
                  <ControlOwner autoscaling={autoscaling} />
                </div>
              )}
            </section>
            <section className="panel" aria-labelledby="tasks-title">
              <h2 id="tasks-title">Tasks ({fleet.tasks.length})</h2>
              <TaskTable tasks={fleet.tasks} />
            </section>
          </div>
          {autoscaling && (
            <section className="panel" aria-labelledby="policy-title">
              <h2 id="policy-title">Autoscaling policy</h2>
              {autoscaling.lastEvaluation && (
                <p className="muted small">
                  Last evaluation <span suppressHydrationWarning>{ago(autoscaling.lastEvaluation.at, now)}</span>:{" "}
                  {autoscaling.lastEvaluation.cause}
                </p>
              )}
              <PolicyEditor autoscaling={autoscaling} maxTasks={fleet.maxTasks} />
            </section>
          )}
          <section className="panel" aria-labelledby="planner-title">
            <h2 id="planner-title">Capacity planner</h2>
            <CapacityPlanner
              live={{
                arrivalPerSecond: (() => {
                  const p = store.timeline.latest();
                  return p && Number.isFinite(p.acceptPerSecond) ? p.acceptPerSecond : undefined;
                })(),
                tasks: fleet.running,
                concurrency: fleet.concurrency,
                backlog: queue?.backlog ?? queue?.visible,
              }}
            />
          </section>
          <Schedules />
        </>
      )}
      <section className="panel" aria-labelledby="activity-title">
        <h2 id="activity-title">Activity log</h2>
        <Activities />
      </section>
    </>
  );
}
