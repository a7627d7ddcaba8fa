"use client";

import { useEffect, useState, useSyncExternalStore } from "react";
import { useLive } from "../../client/live";
import { describeError, ops } from "../../client/ops-client";
import { useOps } from "../../client/use-ops";
import {
  type BurstDraft,
  burstBody,
  DEFAULT_DRAFT,
  type DraftProblems,
  draftProblems,
  problemList,
} from "../../lib/burst-draft";
import { defaultPair } from "../../lib/comparison";
import { count, dateTime, ms, percent, perSecond } from "../../lib/format";
import { type BurstBounds, type BurstSummary, pick } from "../../lib/ops";
import { useConsole } from "../Shell";
import { Empty, PageHead, ReadOnlyNote, Resource, Table } from "../ui";
import { ActiveBurst, Gates, LatencyBreakdown, LocustStats, PercentileTable } from "./ActiveBurst";
import { apiProblemsOf, BurstForm, ProblemSummary } from "./BurstForm";
import { ComparisonTable } from "./Comparison";

type RunnerState =
  | { phase: "idle" }
  | { phase: "sync" | "async"; draft: BurstDraft; syncId?: string; asyncId?: string }
  | { phase: "done"; syncId: string; asyncId: string }
  | { phase: "failed"; error: string; problems?: DraftProblems };

/**
 * "The same burst in sync and async": runs the form's burst on /orders/sync,
 * then the identical one on /orders/async, and fills the comparison. Kept at
 * module level so it carries on while the operator looks at other pages.
 */
const runner = (() => {
  let state: RunnerState = { phase: "idle" };
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(next: RunnerState) {
      state = next;
      for (const l of listeners) l();
    },
    subscribe(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
})();

function useRunner(): RunnerState {
  return useSyncExternalStore(runner.subscribe, runner.get, runner.get);
}

function loadLabel(b: BurstSummary): string {
  const s = b.spec;
  if (s.model === "users") return `${s.users} users @ ${s.spawnRate}/s`;
  const shape = s.stages ? `${s.stages.length} stages from ${s.ratePerSecond}/s` : `${s.ratePerSecond}/s`;
  return `${shape} ${s.arrival === "poisson" ? "Poisson" : "arrival"}`;
}

/** "pass", "1 of 3 failed", "draining…" or "—" (no gates). */
function gatesCell(b: BurstSummary): string {
  if (b.queue?.draining) return "draining…";
  if (!b.thresholds || b.thresholds.length === 0) return b.spec.thresholds?.length ? "pending" : "—";
  const failed = b.thresholds.filter((t) => !t.pass).length;
  return failed === 0 ? `all ${b.thresholds.length} pass` : `${failed} of ${b.thresholds.length} failed`;
}

/** Past bursts: open one's figures, pick two to compare, export one. */
function HistoryTable({
  bursts,
  sync,
  async,
  detail,
  setDetail,
  select,
}: {
  bursts: BurstSummary[];
  sync: BurstSummary | undefined;
  async: BurstSummary | undefined;
  detail: string | undefined;
  setDetail: (id: string | undefined) => void;
  select: (burst: BurstSummary) => void;
}) {
  return (
    <Table
      label="Past bursts"
      columns={[
        "Started",
        "By",
        "Endpoint",
        "Load",
        { label: "Duration", num: true },
        { label: "Requests", num: true },
        { label: "Fails", num: true },
        { label: "Req/s", num: true },
        { label: "p50", num: true },
        { label: "p99", num: true },
        "Status",
        "Gates",
        "Compare",
        "Export",
      ]}
    >
      {bursts.map((b) => (
        <tr key={b.id} className={b.id === sync?.id || b.id === async?.id ? "selected" : undefined}>
          <td className="mono">
            <button
              type="button"
              className="small ghost"
              onClick={() => setDetail(detail === b.id ? undefined : b.id)}
              aria-expanded={detail === b.id}
            >
              {dateTime(b.startedAt)}
            </button>
          </td>
          <td>{b.startedBy}</td>
          <td>
            <span className={`badge ${b.spec.mode === "async" ? "info" : "warning"}`}>{b.spec.mode}</span>
          </td>
          <td>{loadLabel(b)}</td>
          <td className="num">{Math.round(b.elapsedSeconds)} s</td>
          <td className="num">{count(b.requests)}</td>
          <td className="num">{percent(b.failureRatio)}</td>
          <td className="num">{perSecond(b.throughputPerSecond)}</td>
          <td className="num">{ms(b.latencyMs.p50)}</td>
          <td className="num">{ms(b.latencyMs.p99)}</td>
          <td>{b.status}</td>
          <td data-testid="burst-gates-cell">{gatesCell(b)}</td>
          <td>
            <label className="check small">
              <input
                type="radio"
                name={`compare-${b.spec.mode}`}
                checked={(b.spec.mode === "sync" ? sync?.id : async?.id) === b.id}
                onChange={() => select(b)}
                disabled={b.status === "running"}
              />
              as {b.spec.mode}
            </label>
          </td>
          <td className="small">
            <a href={`/api/ops/bursts/${b.id}?format=csv`} download>
              CSV
            </a>{" "}
            <a href={`/api/ops/bursts/${b.id}?format=json`} download>
              JSON
            </a>
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function FlashSale() {
  const { canOperate } = useConsole();
  const { state } = useLive();
  const bursts = pick(state, "bursts");
  const active = bursts?.active ?? null;
  const history = useOps<{ bursts: BurstSummary[]; bounds: BurstBounds }>("/bursts?limit=50", 5000);
  const [draft, setDraft] = useState<BurstDraft>(DEFAULT_DRAFT);
  const [selected, setSelected] = useState<{ sync?: string; async?: string }>({});
  const [detail, setDetail] = useState<string>();
  const run = useRunner();
  const bounds = bursts?.bounds ?? history.data?.bounds;
  const lastId = bursts?.last?.id;

  // Refresh the history when a burst starts or ends.
  const activeId = active?.id;
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-fetch on these transitions only
  useEffect(() => {
    void history.refresh();
  }, [activeId, lastId]);

  // Drive the sync → async comparison run from the live state.
  useEffect(() => {
    if (run.phase === "sync" && run.syncId && !active && lastId === run.syncId) {
      ops
        .post<BurstSummary>("/bursts", burstBody({ ...run.draft, mode: "async" }))
        .then((b) => runner.set({ ...run, phase: "async", asyncId: b.id }))
        .catch((e) =>
          runner.set({
            phase: "failed",
            error: `async burst did not start: ${describeError(e)}`,
            problems: apiProblemsOf(e, burstBody({ ...run.draft, mode: "async" })),
          }),
        );
    } else if (run.phase === "async" && run.asyncId && run.syncId && !active && lastId === run.asyncId) {
      runner.set({ phase: "done", syncId: run.syncId, asyncId: run.asyncId });
      setSelected({ sync: run.syncId, async: run.asyncId });
    }
  }, [run, active, lastId]);

  const startComparison = async () => {
    const syncDraft = { ...draft, mode: "sync" as const };
    runner.set({ phase: "sync", draft: syncDraft });
    const body = burstBody(syncDraft);
    try {
      const b = await ops.post<BurstSummary>("/bursts", body);
      runner.set({ phase: "sync", draft: syncDraft, syncId: b.id });
    } catch (e) {
      const problems = apiProblemsOf(e, body);
      runner.set({
        phase: "failed",
        error:
          Object.keys(problems).length > 0 ? "sync burst refused:" : `sync burst did not start: ${describeError(e)}`,
        problems,
      });
    }
  };
  // The comparison runs the form's burst: it follows the form's validation.
  const formProblems = bounds ? draftProblems(draft, bounds) : {};
  const formInvalid = Object.keys(formProblems).length > 0;

  const list = history.data?.bursts ?? [];
  const byId = new Map(list.map((b) => [b.id, b]));
  const fallback = defaultPair(list);
  const sync = (selected.sync && byId.get(selected.sync)) || fallback.sync;
  const async = (selected.async && byId.get(selected.async)) || fallback.async;
  const detailBurst = detail ? byId.get(detail) : undefined;

  return (
    <>
      <PageHead
        title="Flash sale"
        sub="fire a burst at this deployment and watch it like Locust does"
        dashboard="overview"
      />
      <ReadOnlyNote />
      {active ? (
        <ActiveBurst burst={active} onStopped={() => void history.refresh()} />
      ) : (
        <section className="panel" aria-labelledby="form-title">
          <h2 id="form-title">New burst</h2>
          <BurstForm
            bounds={bounds}
            running={false}
            draft={draft}
            setDraft={setDraft}
            onStarted={() => void history.refresh()}
          />
        </section>
      )}

      <section className="panel" aria-labelledby="compare-title">
        <div className="row" style={{ justifyContent: "space-between" }}>
          <h2 id="compare-title" style={{ margin: 0 }}>
            The same burst, sync vs async
          </h2>
          <div className="row">
            {(run.phase === "sync" || run.phase === "async") && (
              <span className="badge info" role="status">
                running the {run.phase} half…
              </span>
            )}
            {run.phase === "failed" && (
              <span className="badge critical" role="alert">
                {run.error}
              </span>
            )}
            {formInvalid && (
              <span className="muted small" id="compare-invalid" data-testid="compare-invalid">
                Fix the form first: {problemList(formProblems).join("; ")}
              </span>
            )}
            <button
              type="button"
              onClick={() => void startComparison()}
              disabled={
                !canOperate || !!active || !bounds || formInvalid || run.phase === "sync" || run.phase === "async"
              }
              aria-describedby={formInvalid ? "compare-invalid" : undefined}
              title="Runs the form's burst on /orders/sync, then the identical burst on /orders/async"
            >
              Run {draft.model === "users" ? `${draft.users} users` : `${draft.ratePerSecond}/s`},{" "}
              {draft.durationSeconds} s on both
            </button>
          </div>
        </div>
        {run.phase === "failed" && run.problems && <ProblemSummary problems={run.problems} />}
        <p className="muted small" style={{ margin: "6px 0 12px" }}>
          The study&apos;s comparison table, filled from two measured bursts (pick any two in the history below). The
          sync endpoint holds the customer until a payment slot frees and the payment ends; async answers 202 once the
          order is durably recorded.
        </p>
        <ComparisonTable sync={sync} async={async} />
      </section>

      <section className="panel" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <Resource resource={history} what="past bursts">
          {(data) =>
            data.bursts.length === 0 ? (
              <Empty>No bursts yet. Start one above — try the Flash sale preset on async.</Empty>
            ) : (
              <HistoryTable
                bursts={data.bursts}
                sync={sync}
                async={async}
                detail={detail}
                setDetail={setDetail}
                select={(b) => setSelected((s) => ({ ...s, [b.spec.mode]: b.id }))}
              />
            )
          }
        </Resource>
        {detailBurst && (
          <div style={{ marginTop: 12 }}>
            <h3>
              Burst {detailBurst.id.slice(0, 8)} — {detailBurst.spec.mode}, {loadLabel(detailBurst)}
            </h3>
            <LocustStats burst={detailBurst} />
            <div style={{ marginTop: 8 }}>
              <PercentileTable latency={detailBurst.latencyMs} />
            </div>
            <LatencyBreakdown burst={detailBurst} />
            <Gates burst={detailBurst} />
          </div>
        )}
      </section>
    </>
  );
}
