"use client";

import type { IntakeMode, IntakeView } from "@surge/api/contract";
import { useEffect, useState } from "react";
import { useLive } from "../../client/live";
import { ops } from "../../client/ops-client";
import { count, seconds } from "../../lib/format";
import { section } from "../../lib/ops";
import { useConsole } from "../Shell";
import { ConfirmDialog, Tile, useAction } from "../ui";

const MODES: ReadonlyArray<{ mode: IntakeMode; label: string; hint: string }> = [
  { mode: "open", label: "Open", hint: "every valid order is accepted" },
  { mode: "limit", label: "Limit", hint: "429 once the projected wait exceeds the limit" },
  { mode: "paused", label: "Paused", hint: "503 on every order, sync and async" },
];

export function IntakeTiles({ intake }: { intake: IntakeView | undefined }) {
  const refused = intake ? intake.refused.limit + intake.refused.paused + intake.refused.syncWait : undefined;
  const over =
    intake?.mode === "limit" &&
    intake.maxProjectedWaitSeconds !== null &&
    (intake.projectedWaitSeconds === null || intake.projectedWaitSeconds > intake.maxProjectedWaitSeconds);
  return (
    <div className="tiles">
      <Tile
        label="Intake"
        value={intake?.mode ?? "—"}
        severity={intake?.mode === "paused" ? "critical" : intake?.mode === "limit" ? "warning" : "ok"}
        testId="intake-mode"
      />
      <Tile
        label="Wait limit"
        value={intake?.maxProjectedWaitSeconds != null ? seconds(intake.maxProjectedWaitSeconds) : "none"}
        hint={intake?.mode === "limit" ? "applied" : "kept, not applied"}
        testId="intake-limit"
      />
      <Tile
        label="Projected wait"
        value={intake ? (intake.projectedWaitSeconds === null ? "unknown" : seconds(intake.projectedWaitSeconds)) : "—"}
        hint={
          intake
            ? `${count(intake.backlog)} waiting ÷ ${intake.drainPerSecond === null ? "nothing paid" : `${intake.drainPerSecond}/s paid`} (last ${seconds(intake.windowSeconds)})`
            : undefined
        }
        severity={over ? "warning" : "ok"}
        testId="intake-projected"
      />
      <Tile
        label="Refused"
        value={refused !== undefined ? count(refused) : "—"}
        hint={
          intake
            ? `limit ${count(intake.refused.limit)} · paused ${count(intake.refused.paused)} · sync wait ${count(intake.refused.syncWait)}`
            : undefined
        }
        severity={refused ? "warning" : "ok"}
        testId="intake-refused"
      />
    </div>
  );
}

/**
 * Admission control: what the API does with new orders (open, limited on the projected wait, or
 * paused), the figures it decides on, and the refusals so far. Pausing needs the word typed.
 */
export function Intake() {
  const { canOperate } = useConsole();
  const { state } = useLive();
  const live = section(state, "intake");
  const intake = live.ok ? (live.value as IntakeView) : undefined;
  const [mode, setMode] = useState<IntakeMode>("open");
  const [limit, setLimit] = useState("");
  const [confirmPause, setConfirmPause] = useState(false);
  const { busy, notice, run } = useAction();

  // The form starts from what the API applies, and follows it until the operator edits it.
  const [edited, setEdited] = useState(false);
  useEffect(() => {
    if (!intake || edited) return;
    setMode(intake.mode);
    setLimit(intake.maxProjectedWaitSeconds === null ? "" : String(intake.maxProjectedWaitSeconds));
  }, [intake, edited]);

  const apply = () => {
    setConfirmPause(false);
    return run(async () => {
      const body = { mode, ...(limit.trim() !== "" && { maxProjectedWaitSeconds: Number(limit) }) };
      const r = await ops.put<IntakeView>("/intake", body);
      setEdited(false);
      return r.mode === "limit"
        ? `Intake limited: new async orders get 429 while the projected wait is over ${seconds(r.maxProjectedWaitSeconds)}.`
        : r.mode === "paused"
          ? "Intake paused: every new order gets 503. Accepted orders are still paid."
          : "Intake open: every valid order is accepted.";
    });
  };

  return (
    <section className="panel" aria-labelledby="intake-title">
      <h2 id="intake-title">Intake</h2>
      <p className="muted small">
        Admission control. A refused order is never recorded; an accepted one is never refused later.
        {intake?.syncMaxWaitMs != null &&
          ` Sync orders get 503 when a payment slot is over ${intake.syncMaxWaitMs} ms away.`}
      </p>
      {!live.ok && live.error && <p className="error small">Intake unavailable: {live.error}</p>}
      <IntakeTiles intake={intake} />
      {notice}
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (mode === "paused") setConfirmPause(true);
          else void apply();
        }}
      >
        <fieldset className="row" disabled={!canOperate || busy} aria-label="Intake mode">
          {MODES.map((m) => (
            <label key={m.mode} title={m.hint}>
              <input
                type="radio"
                name="intake-mode"
                value={m.mode}
                checked={mode === m.mode}
                onChange={() => {
                  setEdited(true);
                  setMode(m.mode);
                }}
              />{" "}
              {m.label}
            </label>
          ))}
          <label>
            Wait limit (s){" "}
            <input
              type="number"
              min={1}
              max={86400}
              step="any"
              value={limit}
              required={mode === "limit"}
              aria-label="Maximum projected wait in seconds"
              onChange={(e) => {
                setEdited(true);
                setLimit(e.target.value);
              }}
              style={{ width: 90 }}
            />
          </label>
          <button type="submit" className={mode === "paused" ? "danger" : "primary"}>
            Apply
          </button>
        </fieldset>
      </form>
      <ConfirmDialog
        open={confirmPause}
        title="Pause order intake?"
        confirmLabel="Pause intake"
        danger
        typed="pause"
        onConfirm={() => void apply()}
        onCancel={() => setConfirmPause(false)}
      >
        <p>
          Every new order, sync and async, gets 503 with Retry-After until intake is opened again. Orders already
          accepted are still paid.
        </p>
      </ConfirmDialog>
    </section>
  );
}
