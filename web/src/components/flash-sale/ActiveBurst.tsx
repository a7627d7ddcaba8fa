"use client";

import { useState } from "react";
import { ops } from "../../client/ops-client";
import { count, ms, num, percent, perSecond, seconds } from "../../lib/format";
import type { BurstStats, BurstSummary, LatencySummaryMs } from "../../lib/ops";
import { TextField } from "../fields";
import { useConsole } from "../Shell";
import { Sparkline } from "../Sparkline";
import { Table, useAction } from "../ui";

const PERCENTILES: Array<[string, keyof LatencySummaryMs]> = [
  ["50%", "p50"],
  ["66%", "p66"],
  ["75%", "p75"],
  ["80%", "p80"],
  ["90%", "p90"],
  ["95%", "p95"],
  ["98%", "p98"],
  ["99%", "p99"],
  ["99.9%", "p999"],
  ["100%", "max"],
];

/** Locust's statistics table, one row: the figures a load tester reads first. */
export function LocustStats({ burst }: { burst: BurstSummary }) {
  const name = burst.spec.mode === "sync" ? "POST /orders/sync" : "POST /orders/async";
  const l = burst.latencyMs;
  return (
    <Table
      label="Request statistics"
      columns={[
        "Name",
        { label: "# Requests", num: true },
        { label: "# Fails", num: true },
        { label: "Median", num: true },
        { label: "90%ile", num: true },
        { label: "99%ile", num: true },
        { label: "Average", num: true },
        { label: "Min", num: true },
        { label: "Max", num: true },
        { label: "Current RPS", num: true },
        { label: "Failures/s", num: true },
      ]}
    >
      <tr>
        <td className="mono">{name}</td>
        <td className="num" data-testid="burst-requests">
          {count(burst.requests)}
        </td>
        <td className="num">
          {count(burst.failures)} ({percent(burst.failureRatio)})
        </td>
        <td className="num">{ms(l.p50)}</td>
        <td className="num">{ms(l.p90)}</td>
        <td className="num">{ms(l.p99)}</td>
        <td className="num">{ms(l.avg)}</td>
        <td className="num">{ms(l.min)}</td>
        <td className="num">{ms(l.max)}</td>
        <td className="num">{perSecond(burst.currentRequestsPerSecond)}</td>
        <td className="num">{perSecond(burst.failuresPerSecond)}</td>
      </tr>
    </Table>
  );
}

export function PercentileTable({ latency }: { latency: LatencySummaryMs }) {
  return (
    <Table label="Response time percentiles" columns={PERCENTILES.map(([label]) => ({ label, num: true }))}>
      <tr>
        {PERCENTILES.map(([label, key]) => (
          <td key={label} className="num">
            {ms(latency[key])}
          </td>
        ))}
      </tr>
    </Table>
  );
}

const GATE_LABELS: Record<string, { label: string; format: (v: number) => string }> = {
  p99Ms: { label: "p99 latency (from the scheduled arrival)", format: (v) => ms(v) },
  failureRatio: { label: "Failure ratio (dropped arrivals count)", format: (v) => percent(v) },
  oldestAgeSeconds: { label: "Oldest order age, at its highest", format: (v) => seconds(v) },
  drainSeconds: { label: "Drain time after the load", format: (v) => seconds(v) },
};

/**
 * The burst's SLO gates: pass or fail each, once decided; while the queue drains, what it waits for.
 */
export function Gates({ burst }: { burst: BurstSummary }) {
  const asked = burst.spec.thresholds ?? [];
  if (asked.length === 0) return null;
  const results = burst.thresholds;
  const q = burst.queue;
  return (
    <div style={{ marginTop: 12 }} data-testid="burst-gates">
      <h3>SLO gates</h3>
      {!results && q?.draining && (
        <p className="small muted" role="status">
          Load ended; watching the queue drain for the queue gates: {count(q.waiting)} order(s) waiting, oldest{" "}
          {seconds(q.oldestAgeSeconds)}, {seconds(q.drainSeconds)} so far.
        </p>
      )}
      <Table label="SLO gates" columns={["Gate", { label: "Max", num: true }, { label: "Value", num: true }, "Result"]}>
        {asked.map((gate) => {
          const result = results?.find((r) => r.metric === gate.metric);
          const show = GATE_LABELS[gate.metric] ?? { label: gate.metric, format: (v: number) => num(v) };
          const notDrained = gate.metric === "drainSeconds" && result && !result.pass && q && !q.drained;
          return (
            <tr key={gate.metric} data-gate={gate.metric}>
              <td>{show.label}</td>
              <td className="num">{show.format(gate.max)}</td>
              <td className="num">{result ? `${notDrained ? "over " : ""}${show.format(result.value)}` : "—"}</td>
              <td>
                {result ? (
                  <span className={`badge ${result.pass ? "ok" : "critical"}`}>{result.pass ? "pass" : "fail"}</span>
                ) : (
                  <span className="badge">pending</span>
                )}
                {notDrained && <span className="small muted"> not drained when the watch ended</span>}
              </td>
            </tr>
          );
        })}
      </Table>
    </div>
  );
}

/**
 * What the latency is made of: from the scheduled arrival (what a shopper feels), the service time
 * (send → answer, what Locust reports) and the schedule lag between them; corrected for a users burst.
 */
export function LatencyBreakdown({ burst }: { burst: BurstSummary }) {
  const rows: Array<[string, LatencySummaryMs | undefined]> = [
    ["from the scheduled arrival", burst.latencyMs],
    ["service time (send → answer)", burst.serviceTimeMs],
    ["schedule lag (scheduled → send)", burst.scheduleLagMs],
    ["corrected for coordinated omission", burst.correctedLatencyMs],
  ];
  const keys: Array<[string, keyof LatencySummaryMs]> = [
    ["50%", "p50"],
    ["90%", "p90"],
    ["99%", "p99"],
    ["99.9%", "p999"],
    ["Max", "max"],
  ];
  return (
    <div style={{ marginTop: 12 }}>
      <h3>Latency, service time and schedule lag</h3>
      <Table label="Latency breakdown" columns={["Measured", ...keys.map(([label]) => ({ label, num: true }))]}>
        {rows
          .filter((row): row is [string, LatencySummaryMs] => row[1] !== undefined)
          .map(([label, summary]) => (
            <tr key={label}>
              <td>{label}</td>
              {keys.map(([k, key]) => (
                <td key={k} className="num">
                  {ms(summary[key])}
                </td>
              ))}
            </tr>
          ))}
      </Table>
    </div>
  );
}

function BurstProgress({ burst }: { burst: BurstStats }) {
  const spec = burst.spec;
  const progress = Math.min(1, burst.elapsedSeconds / spec.durationSeconds);
  return (
    <div style={{ margin: "10px 0" }}>
      <div
        role="progressbar"
        aria-label="Burst progress"
        aria-valuemin={0}
        aria-valuemax={spec.durationSeconds}
        aria-valuenow={Math.round(burst.elapsedSeconds)}
        style={{ height: 6, background: "var(--panel-2)", borderRadius: 3 }}
      >
        <div style={{ width: `${progress * 100}%`, height: 6, background: "var(--accent)", borderRadius: 3 }} />
      </div>
      <div className="row small muted" style={{ marginTop: 4 }}>
        <span>
          {seconds(Math.round(burst.elapsedSeconds))} of {seconds(spec.durationSeconds)}
        </span>
        {burst.users && (
          <span data-testid="burst-users">
            users {burst.users.active} / {burst.users.target} (spawn {num(burst.users.spawnRate)}/s)
          </span>
        )}
        {burst.ratePerSecond !== undefined && <span>target {num(burst.ratePerSecond)} orders/s</span>}
        <span>{count(burst.inFlight)} in flight</span>
        {burst.dropped > 0 && <span className="worse">{count(burst.dropped)} dropped at the in-flight cap</span>}
      </div>
    </div>
  );
}

/** The burst's last minute: throughput and failures, and two percentiles. */
function BurstCharts({ timeline }: { timeline: BurstStats["timeline"] }) {
  return (
    <div className="grid two" style={{ marginTop: 12 }}>
      <Sparkline
        label="Requests per second over the burst's last minute"
        format={(v) => `${num(v)}/s`}
        series={[
          { label: "req/s", color: "#4da3ff", values: timeline.map((p) => p.requestsPerSecond) },
          { label: "failures/s", color: "#f85149", values: timeline.map((p) => p.failures / p.intervalSeconds) },
        ]}
      />
      <Sparkline
        label="Response time percentiles over the burst's last minute"
        format={(v) => ms(v)}
        series={[
          { label: "p50", color: "#56d4dd", values: timeline.map((p) => (p.requests > 0 ? p.p50Ms : null)) },
          { label: "p99", color: "#db61a2", values: timeline.map((p) => (p.requests > 0 ? p.p99Ms : null)) },
        ]}
      />
    </div>
  );
}

/** Users, spawn rate or arrival rate, changed while the burst runs; an empty box leaves that figure alone. */
function ChangeBurst({
  burst,
  busy,
  run,
}: {
  burst: BurstStats;
  busy: boolean;
  run: ReturnType<typeof useAction>["run"];
}) {
  const { canOperate } = useConsole();
  const [users, setUsers] = useState<string>("");
  const [spawnRate, setSpawnRate] = useState<string>("");
  const [rate, setRate] = useState<string>("");
  const spec = burst.spec;
  const change = (body: Record<string, number>) =>
    run(async () => {
      await ops.patch(`/bursts/${burst.id}`, body);
      setUsers("");
      setSpawnRate("");
      setRate("");
      return `Changed: ${Object.entries(body)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`;
    });
  return (
    <form
      className="row"
      style={{ marginTop: 12, alignItems: "flex-end" }}
      onSubmit={(e) => {
        e.preventDefault();
        const body: Record<string, number> = {};
        if (users !== "") body.users = Number(users);
        if (spawnRate !== "") body.spawnRate = Number(spawnRate);
        if (rate !== "") body.ratePerSecond = Number(rate);
        if (Object.keys(body).length > 0) void change(body);
      }}
      aria-label="Change the running burst"
    >
      {spec.model === "users" ? (
        <>
          <TextField
            label="Users now"
            width={140}
            type="number"
            name="change-users"
            min={1}
            placeholder={String(burst.users?.target ?? spec.users)}
            value={users}
            onValue={setUsers}
          />
          <TextField
            label="Spawn rate (users/s)"
            width={140}
            type="number"
            step={0.1}
            name="change-spawn-rate"
            placeholder={String(burst.users?.spawnRate ?? spec.spawnRate)}
            value={spawnRate}
            onValue={setSpawnRate}
          />
        </>
      ) : (
        <TextField
          label="Arrival rate (orders/s)"
          width={160}
          type="number"
          step={0.1}
          name="change-rate"
          placeholder={String(burst.ratePerSecond ?? spec.ratePerSecond)}
          value={rate}
          onValue={setRate}
        />
      )}
      <button type="submit" disabled={!canOperate || busy || (users === "" && spawnRate === "" && rate === "")}>
        Apply while running
      </button>
      {burst.changes.length > 0 && (
        <span className="faint small">
          {burst.changes.length} change(s): last at {num(burst.changes[burst.changes.length - 1]?.atSecond ?? 0)} s by{" "}
          {burst.changes[burst.changes.length - 1]?.by}
        </span>
      )}
    </form>
  );
}

/** The burst running now: live stats, its last minute, change users or rate, stop. */
export function ActiveBurst({ burst, onStopped }: { burst: BurstStats; onStopped: () => void }) {
  const { canOperate } = useConsole();
  const { busy, notice, run } = useAction();
  const spec = burst.spec;
  const draining = burst.status !== "running";
  const stop = () =>
    run(async () => {
      await ops.delete(`/bursts/${burst.id}`);
      onStopped();
      return draining
        ? "Stopped watching the drain: the queue gates are decided with what was seen."
        : "Burst stopped.";
    });
  const load =
    spec.model === "users"
      ? `${spec.users} users`
      : spec.stages
        ? `${spec.stages.length} stages, now ${num(burst.ratePerSecond ?? 0)}/s`
        : `${spec.ratePerSecond}/s`;

  return (
    <section className="panel" aria-labelledby="active-title" data-testid="active-burst">
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h2 id="active-title" style={{ margin: 0 }}>
          {draining ? "Load ended, queue draining" : "Running"}: {load} → {spec.mode}
          <span className="muted small"> · started by {burst.startedBy}</span>
        </h2>
        <button type="button" className="danger" onClick={() => void stop()} disabled={!canOperate || busy}>
          {draining ? "Stop watching" : "Stop burst"}
        </button>
      </div>
      <BurstProgress burst={burst} />
      {notice}
      <LocustStats burst={burst} />
      <BurstCharts timeline={burst.timeline} />
      <div style={{ marginTop: 12 }}>
        <h3>Response time percentiles (all requests so far)</h3>
        <PercentileTable latency={burst.latencyMs} />
      </div>
      <LatencyBreakdown burst={burst} />
      <Gates burst={burst} />
      {Object.keys(burst.errors).length > 0 && (
        <div style={{ marginTop: 12 }}>
          <h3>Failures by reason</h3>
          <ul className="small">
            {Object.entries(burst.errors).map(([reason, n]) => (
              <li key={reason}>
                <span className="mono">{reason}</span>: {count(n)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {!draining && <ChangeBurst burst={burst} busy={busy} run={run} />}
    </section>
  );
}
