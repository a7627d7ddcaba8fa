"use client";

import { useState } from "react";
import { useLive } from "../../client/live";
import { ops } from "../../client/ops-client";
import { useOps } from "../../client/use-ops";
import { histogram } from "../../lib/equal-width-bins";
import { clock, count, ms, num, percent } from "../../lib/format";
import { type LambdaView, PROCESSING_TARGETS, type ProcessingTarget, pick, section } from "../../lib/ops";
import { STUDY_LAMBDA } from "../../lib/study";
import { useConsole } from "../Shell";
import { ConfirmDialog, Empty, Loading, PageHead, ReadOnlyNote, Resource, Table, Tile, useAction } from "../ui";
import { coldStartNote, concurrentNow, durationPair, lambdaBacklogNote, timeTicks } from "./figures";

const TARGET_TEXT: Record<ProcessingTarget, string> = {
  workers: "Workers (ECS tasks polling SQS)",
  lambda: "Lambda (subscribed to SNS)",
  both: "Both (split between the two)",
};

function RoutingSwitch() {
  const { canOperate } = useConsole();
  const { state } = useLive();
  const processing = pick(state, "processing");
  const [pending, setPending] = useState<ProcessingTarget>();
  const { busy, notice, run } = useAction();
  if (!processing) {
    const s = section(state, "processing");
    return (
      <p className="muted">
        {s.ok ? "" : s.error ? `Routing unavailable: ${s.error}` : "This API does not report order routing."}
      </p>
    );
  }
  const apply = (target: ProcessingTarget) => {
    setPending(undefined);
    return run(async () => {
      await ops.put("/processing", { target });
      return `New orders now go to: ${TARGET_TEXT[target]}. Orders already queued finish where they are.`;
    });
  };
  return (
    <div className="stack">
      <fieldset className="segmented">
        <legend className="sr-only">Where new orders are processed</legend>
        {PROCESSING_TARGETS.map((t) => {
          const unavailable = t !== "workers" && !processing.lambdaConfigured;
          return (
            <button
              key={t}
              type="button"
              aria-pressed={processing.target === t}
              disabled={!canOperate || busy || unavailable}
              title={unavailable ? "No Lambda function is configured" : TARGET_TEXT[t]}
              onClick={() => processing.target !== t && setPending(t)}
            >
              {t}
            </button>
          );
        })}
      </fieldset>
      <p className="muted small" style={{ margin: 0 }}>
        Now: <strong data-testid="processing-target">{TARGET_TEXT[processing.target]}</strong>
        {!processing.lambdaConfigured && " — no Lambda function is configured, so only workers can process."}
      </p>
      {notice}
      <ConfirmDialog
        open={pending !== undefined}
        title="Change where orders are processed?"
        confirmLabel={`Route to ${pending ?? ""}`}
        onConfirm={() => pending && void apply(pending)}
        onCancel={() => setPending(undefined)}
      >
        <p>
          New orders will go to <strong>{pending && TARGET_TEXT[pending]}</strong>. Orders already on the queue are
          still paid by the workers.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function InitHistogram({ values, note }: { values: number[]; note: string }) {
  const bins = histogram(values, 12);
  if (bins.length === 0) return <Empty>{note}</Empty>;
  const max = Math.max(...bins.map((b) => b.count));
  const w = 600;
  const h = 140;
  const barW = w / bins.length;
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${w} ${h + 18}`}
        style={{ width: "100%", height: h + 18, display: "block" }}
        role="img"
        aria-label={`Init duration histogram of ${values.length} cold starts, ${ms(Math.min(...values))} to ${ms(Math.max(...values))}`}
      >
        {bins.map((b, i) => {
          const bh = (b.count / max) * (h - 14);
          return (
            <g key={b.from}>
              <rect x={i * barW + 2} y={h - bh} width={barW - 4} height={bh} fill="#4da3ff" opacity={0.85}>
                <title>
                  {num(b.from)}–{num(b.to)} ms: {b.count}
                </title>
              </rect>
              {b.count > 0 && (
                <text x={i * barW + barW / 2} y={h - bh - 3} fill="#9aa7b4" fontSize="11" textAnchor="middle">
                  {b.count}
                </text>
              )}
              <text x={i * barW + barW / 2} y={h + 14} fill="#6e7b88" fontSize="10" textAnchor="middle">
                {num(b.from)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="faint small" data-testid="init-note">
        init duration, ms (bin start) — the study saw {STUDY_LAMBDA.initMsAverage} ms on average. {note}
      </figcaption>
    </figure>
  );
}

/** Invocations per bin, warm stacked on cold: the waves of cold starts a burst causes. */
function ColdWarmBars({ bins }: { bins: LambdaView["summary"]["bins"] }) {
  const w = 600;
  const h = 130;
  const max = Math.max(1, ...bins.map((b) => b.invocations));
  const barW = w / Math.max(1, bins.length);
  const cold = bins.reduce((n, b) => n + b.coldStarts, 0);
  const warm = bins.reduce((n, b) => n + b.invocations - b.coldStarts, 0);
  const ticks = timeTicks(
    bins.map((b) => b.startMs),
    6,
  );
  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${w} ${h}`}
        preserveAspectRatio="none"
        style={{ width: "100%", height: h, display: "block" }}
        role="img"
        aria-label={`Invocations per bin: ${cold} cold, ${warm} warm`}
      >
        <line x1="0" x2={w} y1={h - 1} y2={h - 1} stroke="#2b3440" />
        {bins.map((b, i) => {
          const coldH = (b.coldStarts / max) * (h - 6);
          const warmH = ((b.invocations - b.coldStarts) / max) * (h - 6);
          const x = i * barW;
          return (
            <g key={b.startMs}>
              <title>
                {clock(b.startMs)}: {b.invocations} invocations, {b.coldStarts} cold
              </title>
              <rect x={x + 0.5} y={h - 1 - coldH} width={Math.max(1, barW - 1)} height={coldH} fill="#4da3ff" />
              <rect x={x + 0.5} y={h - 1 - coldH - warmH} width={Math.max(1, barW - 1)} height={warmH} fill="#3fb950" />
            </g>
          );
        })}
      </svg>
      {/* The time axis in HTML: the bars stretch with the width, the labels must not. */}
      <div className="faint small mono" data-testid="cold-warm-axis" style={{ position: "relative", height: 18 }}>
        {ticks.map((t) => (
          <span
            key={t.fraction}
            style={{ position: "absolute", left: `${t.fraction * 100}%`, top: 2, whiteSpace: "nowrap" }}
          >
            {t.label}
          </span>
        ))}
      </div>
      <figcaption className="chart-legend">
        <span>
          <span className="swatch" style={{ background: "#4da3ff" }} /> cold ({count(cold)})
        </span>
        <span>
          <span className="swatch" style={{ background: "#3fb950" }} /> warm ({count(warm)})
        </span>
        <span className="faint">max {count(max)} per bin</span>
      </figcaption>
    </figure>
  );
}

function LambdaFigures({ data }: { data: LambdaView }) {
  const s = data.summary;
  const cold = data.recentReports.filter((r) => r.start === "cold" && r.initDurationMs !== undefined);
  const init = durationPair(s.initDurationMs);
  const duration = durationPair(s.durationMs);
  const concurrent = concurrentNow(data.live);
  const orders = data.orders;
  const note = coldStartNote({
    coldStarts: s.coldStarts,
    recentCold: cold.length,
    recentShown: data.recentReports.length,
  });
  return (
    <>
      <div className="tiles">
        <Tile
          label="Waiting for Lambda"
          value={orders ? count(orders.waiting) : "—"}
          hint={
            orders
              ? data.live.pendingEvents !== undefined
                ? `orders · ${count(data.live.pendingEvents)} events queued`
                : "orders routed to it, unpaid"
              : "not reported by this API"
          }
          testId="lambda-waiting"
        />
        <Tile label="Invocations" value={count(s.invocations)} hint="last hour" testId="lambda-invocations" />
        <Tile
          label="Cold starts"
          value={count(s.coldStarts)}
          hint={s.invocations > 0 ? `${percent(s.coldStartShare)} of invocations` : "no invocation"}
          testId="lambda-cold"
        />
        <Tile label="Warm starts" value={count(s.warmStarts)} hint="reused an environment" />
        {/* Only once provisioned concurrency is in use: 0 / 0 would say nothing. */}
        {data.live.provisioned && (data.live.provisioned.configured > 0 || data.live.provisioned.invocations > 0) && (
          <Tile
            label="Provisioned ready"
            value={`${count(data.live.provisioned.ready)} / ${count(data.live.provisioned.configured)}`}
            hint={`${count(data.live.provisioned.invocations)} starts on them, no init · since the runtime started`}
            testId="lambda-provisioned"
          />
        )}
        <Tile
          label="Init p50"
          value={init.p50}
          hint={`p99 ${init.p99} · study ~${STUDY_LAMBDA.initMsAverage} ms`}
          testId="lambda-init"
        />
        <Tile label="Duration p50" value={duration.p50} hint={`p99 ${duration.p99} · incl. the payment`} />
        <Tile
          label="Errors / throttles"
          value={`${count(s.errors)} / ${count(s.throttles)}`}
          hint={
            (orders?.dead ?? 0) > 0
              ? `${count(orders?.dead)} orders dead`
              : s.throttles > 0
                ? "retried, none lost"
                : "none lost"
          }
          severity={(orders?.dead ?? 0) > 0 ? "critical" : s.errors > 0 ? "warning" : "ok"}
          testId="lambda-errors"
        />
        <Tile label="Concurrent now" value={concurrent.value} hint={concurrent.hint} testId="lambda-concurrent" />
        <Tile
          label="Billed"
          value={`${num(s.billedGbSeconds)} GB-s`}
          hint={s.invocations > 0 ? `max memory ${num(s.maxMemoryUsedMb)} MB` : "no invocation"}
        />
      </div>
      <p className="muted small" data-testid="lambda-loss-note">
        {lambdaBacklogNote({ throttles: s.throttles, errors: s.errors, dead: orders?.dead ?? 0 })}
        {orders && orders.waiting > 0 && ` ${count(orders.waiting)} orders wait for the function.`}
      </p>
      <div className="grid two">
        <section className="panel" aria-labelledby="init-title">
          <h2 id="init-title">Init duration (cold starts)</h2>
          <InitHistogram values={cold.map((r) => r.initDurationMs ?? 0)} note={note} />
        </section>
        <section className="panel" aria-labelledby="share-title">
          <h2 id="share-title">Cold vs warm over time</h2>
          {s.invocations === 0 ? <Empty>No invocations in the last hour.</Empty> : <ColdWarmBars bins={s.bins} />}
          <p className="faint small">
            Per {s.binSeconds / 60}-minute bin over the last hour. Cold starts come in waves when a burst needs more
            environments; then environments are reused until they idle out.
          </p>
        </section>
      </div>
      <section className="panel" aria-labelledby="reports-title">
        <h2 id="reports-title">Recent REPORT lines ({data.recentReports.length})</h2>
        {data.recentReports.length === 0 ? (
          <Empty>No invocations yet. Route orders to Lambda above and fire a burst.</Empty>
        ) : (
          <Table
            label="REPORT lines"
            columns={[
              "At",
              "Start",
              { label: "Init", num: true },
              { label: "Duration", num: true },
              { label: "Billed", num: true },
              { label: "Memory", num: true },
              "REPORT",
            ]}
            maxHeight={420}
          >
            {data.recentReports.map((r) => (
              <tr key={r.requestId}>
                <td className="mono">{clock(r.at)}</td>
                <td>
                  {/* As AWS tells them: a provisioned environment's start is warm, its init done at allocation. */}
                  <span
                    className={`badge ${r.start === "cold" ? "info" : ""}`}
                    title={
                      r.initializationType === "provisioned-concurrency"
                        ? "on a provisioned environment, initialised ahead of time"
                        : r.initializationType === "on-demand"
                          ? "on an on-demand environment"
                          : undefined
                    }
                  >
                    {r.initializationType === "provisioned-concurrency" ? "provisioned" : r.start}
                  </span>
                </td>
                <td className="num">{r.initDurationMs !== undefined ? ms(r.initDurationMs) : "—"}</td>
                <td className="num">{ms(r.durationMs)}</td>
                <td className="num">{ms(r.billedDurationMs)}</td>
                <td className="num">
                  {r.maxMemoryUsedMb}/{r.memorySizeMb} MB
                </td>
                <td className="mono small" style={{ maxWidth: 520 }}>
                  {r.line}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </>
  );
}

export function Lambda() {
  const { state } = useLive();
  const processing = pick(state, "processing");
  const configured = processing?.lambdaConfigured;
  const lambda = useOps<LambdaView>(configured ? "/lambda?windowMinutes=60&binSeconds=60&reports=200" : null, 5000);
  return (
    <>
      <PageHead
        title="Lambda"
        sub="cold vs warm, init durations, REPORT lines, and where orders go"
        dashboard="lambda"
      />
      <ReadOnlyNote />
      <section className="panel" aria-labelledby="routing-title">
        <h2 id="routing-title">Where new orders are processed</h2>
        {state ? <RoutingSwitch /> : <Loading lines={1} />}
      </section>
      {!state ? null : !configured ? (
        <section className="panel">
          <Empty>
            No Lambda function is configured for this deployment (LAMBDA_CONTROL_URL for the local runtime,
            LAMBDA_FUNCTION_NAME on AWS), so there are no invocations to show. The study&apos;s function started cold in
            ~{STUDY_LAMBDA.initMsAverage} ms ({STUDY_LAMBDA.initMsRange[0]}–{STUDY_LAMBDA.initMsRange[1]} ms) at{" "}
            {STUDY_LAMBDA.memoryMb} MB.
          </Empty>
        </section>
      ) : (
        <Resource resource={lambda} what="Lambda figures">
          {(data) => <LambdaFigures data={data} />}
        </Resource>
      )}
    </>
  );
}
