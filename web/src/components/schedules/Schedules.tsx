"use client";

import type { SaleWindowView, SchedulesView } from "@surge/api/contract";
import { useEffect, useState } from "react";
import { useLive } from "../../client/live";
import { ops } from "../../client/ops-client";
import { dateTime } from "../../lib/format";
import { section } from "../../lib/ops";
import { useConsole } from "../Shell";
import { ConfirmDialog, Table, useAction } from "../ui";
import { onSaleMinimum } from "./sale-minimum";

/** A `datetime-local` value ("2026-11-27T09:00") for a time, in the viewer's zone. */
function localInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The next quarter hour at least 5 minutes away: a start the API will not call past. */
function defaultStart(nowMs: number): number {
  const quarter = 15 * 60_000;
  return Math.ceil((nowMs + 5 * 60_000) / quarter) * quarter;
}

const STATE_ORDER: Record<SaleWindowView["state"], number> = { active: 0, upcoming: 1, past: 2, cancelled: 3 };

/**
 * Scheduled capacity: a "Schedule a sale" form (start, end, minimum tasks, optional Lambda provisioned
 * concurrency) and the windows, upcoming, active and past, with cancel. The capacity planner's
 * "use in a sale window" fills the minimum.
 */
export function Schedules() {
  const { canOperate } = useConsole();
  const { state } = useLive();
  const live = section(state, "schedules");
  const view = live.ok ? (live.value as SchedulesView) : undefined;
  const [startsAt, setStartsAt] = useState("");
  const [endsAt, setEndsAt] = useState("");
  const [minTasks, setMinTasks] = useState("");
  const [provisioned, setProvisioned] = useState("");
  const [fromPlanner, setFromPlanner] = useState(false);
  const [cancelling, setCancelling] = useState<SaleWindowView | undefined>();
  const { busy, notice, run } = useAction();

  useEffect(() => {
    // Filled after mount: the server render has no "now" of the viewer's.
    const start = defaultStart(Date.now());
    setStartsAt(localInput(start));
    setEndsAt(localInput(start + 60 * 60_000));
  }, []);
  useEffect(
    () =>
      onSaleMinimum((n) => {
        setMinTasks(String(n));
        setFromPlanner(true);
      }),
    [],
  );

  const schedule = () =>
    run(async () => {
      const body = {
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
        minTasks: Number(minTasks),
        ...(provisioned.trim() !== "" && { lambdaProvisionedConcurrency: Number(provisioned) }),
      };
      const w = await ops.post<SaleWindowView>("/schedules", body);
      setFromPlanner(false);
      return `Sale window scheduled: at least ${w.minTasks} tasks from ${dateTime(w.startsAt)} to ${dateTime(w.endsAt)}.${
        w.lambdaNote ? ` Lambda provisioned concurrency: ${w.lambdaNote}.` : ""
      }`;
    });

  const cancel = (w: SaleWindowView) => {
    setCancelling(undefined);
    return run(async () => {
      await ops.delete<SaleWindowView>(`/schedules/${encodeURIComponent(w.id)}`);
      return w.state === "active"
        ? "Sale window cancelled: the floor is lifted; the autoscaler scales in after its cooldown."
        : "Sale window cancelled.";
    });
  };

  const windows = [...(view?.windows ?? [])].sort(
    (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.startsAt.localeCompare(b.startsAt),
  );

  return (
    <section className="panel" id="schedule-sale" aria-labelledby="schedules-title">
      <h2 id="schedules-title">Schedule a sale</h2>
      <p className="muted small">
        From its start to its end a sale window keeps at least its minimum of tasks running; the autoscaler still adds
        more when the backlog needs them. A manual scale below the minimum is refused until the window is cancelled.
      </p>
      {!live.ok && live.error && <p className="error small">Schedules unavailable: {live.error}</p>}
      {notice}
      <form
        className="row"
        aria-label="Schedule a sale"
        onSubmit={(e) => {
          e.preventDefault();
          void schedule();
        }}
      >
        <fieldset className="row" disabled={!canOperate || busy}>
          <label>
            Start{" "}
            <input
              type="datetime-local"
              name="sale-startsAt"
              required
              value={startsAt}
              onChange={(e) => setStartsAt(e.target.value)}
            />
          </label>
          <label>
            End{" "}
            <input
              type="datetime-local"
              name="sale-endsAt"
              required
              value={endsAt}
              onChange={(e) => setEndsAt(e.target.value)}
            />
          </label>
          <label>
            Minimum tasks{" "}
            <input
              type="number"
              name="sale-minTasks"
              min={1}
              step={1}
              required
              value={minTasks}
              onChange={(e) => {
                setMinTasks(e.target.value);
                setFromPlanner(false);
              }}
              style={{ width: 80 }}
            />
          </label>
          <label title="Optional: Lambda provisioned concurrency for the window">
            Lambda provisioned{" "}
            <input
              type="number"
              name="sale-lambdaProvisionedConcurrency"
              min={1}
              step={1}
              placeholder="none"
              value={provisioned}
              onChange={(e) => setProvisioned(e.target.value)}
              style={{ width: 80 }}
            />
          </label>
          <button type="submit" className="primary">
            Schedule
          </button>
        </fieldset>
        {fromPlanner && <span className="faint small">minimum from the capacity planner</span>}
      </form>
      <Table
        label="Sale windows"
        testId="sale-windows"
        columns={["State", "Start", "End", "Min tasks", "Lambda provisioned", "By", { label: "", key: "actions" }]}
      >
        {windows.length === 0 && (
          <tr>
            <td colSpan={7} className="faint">
              No sale window in the last 30 days or ahead.
            </td>
          </tr>
        )}
        {windows.map((w) => (
          <tr key={w.id} data-state={w.state}>
            <td>
              <span className={`badge ${w.state === "active" ? "ok" : w.state === "upcoming" ? "warning" : ""}`}>
                {w.state}
              </span>
            </td>
            <td suppressHydrationWarning>{dateTime(w.startsAt)}</td>
            <td suppressHydrationWarning>
              {dateTime(w.endsAt)}
              {w.cancelledAt && <span className="faint"> (cancelled {dateTime(w.cancelledAt)})</span>}
            </td>
            <td>{w.minTasks}</td>
            <td title={w.lambdaNote}>{w.lambdaProvisionedConcurrency ?? "—"}</td>
            <td>{w.createdBy}</td>
            <td>
              {(w.state === "upcoming" || w.state === "active") && (
                <button
                  type="button"
                  className="small danger"
                  disabled={!canOperate || busy}
                  onClick={() => setCancelling(w)}
                >
                  Cancel
                </button>
              )}
            </td>
          </tr>
        ))}
      </Table>
      <ConfirmDialog
        open={cancelling !== undefined}
        title="Cancel this sale window?"
        confirmLabel="Cancel the window"
        danger={cancelling?.state === "active"}
        onConfirm={() => cancelling && void cancel(cancelling)}
        onCancel={() => setCancelling(undefined)}
      >
        <p>
          {cancelling?.state === "active"
            ? `The window is active: its floor of ${cancelling.minTasks} tasks is lifted now, and the autoscaler scales in as the backlog allows.`
            : "The window will not start."}
        </p>
      </ConfirmDialog>
    </section>
  );
}
