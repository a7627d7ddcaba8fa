"use client";

import { useState } from "react";
import { drainText } from "../../lib/derive";
import { count, num, perSecond, seconds } from "../../lib/format";
import { lesson, type PlannerInput, plan } from "../../lib/planner";
import { STUDY_LESSON, STUDY_PAYMENT, studyWorkersComparison } from "../../lib/study";
import { proposeSaleMinimum } from "../schedules/sale-minimum";

interface LiveFigures {
  arrivalPerSecond: number | undefined;
  tasks: number;
  concurrency: number;
  backlog: number | undefined;
}

const FIELDS: Array<{ key: keyof PlannerInput; label: string; unit: string; step: number }> = [
  { key: "arrivalPerSecond", label: "Arrival rate", unit: "orders/s", step: 0.1 },
  { key: "slotsPerTask", label: "Payment slots", unit: "per task", step: 1 },
  { key: "paymentDurationMs", label: "Payment duration", unit: "ms", step: 100 },
  { key: "tasks", label: "Tasks", unit: "running", step: 1 },
  { key: "concurrency", label: "Concurrency", unit: "per task", step: 1 },
  { key: "backlog", label: "Backlog", unit: "orders waiting", step: 1 },
  { key: "targetAgeSeconds", label: "Target max age", unit: "s", step: 1 },
];

/** The live fleet's figures; an arrival rate not measured yet is 0 (an idle stack), not the study's. */
function fromLive(live: LiveFigures): PlannerInput {
  return {
    arrivalPerSecond: live.arrivalPerSecond !== undefined ? Math.round(live.arrivalPerSecond * 100) / 100 : 0,
    slotsPerTask: STUDY_PAYMENT.slots,
    paymentDurationMs: STUDY_PAYMENT.durationMs,
    tasks: live.tasks,
    concurrency: live.concurrency,
    backlog: live.backlog ?? 0,
    targetAgeSeconds: 60,
  };
}

const STUDY_FLASH_SALE: PlannerInput = {
  arrivalPerSecond: STUDY_LESSON.flashSaleArrivalPerSecond,
  slotsPerTask: STUDY_PAYMENT.slots,
  paymentDurationMs: STUDY_PAYMENT.durationMs,
  tasks: 1,
  concurrency: 5,
  backlog: 2759,
  targetAgeSeconds: 60,
};

/** Fields that follow the live fleet until edited (the rest are the model's settings). */
const LIVE_KEYS = new Set<keyof PlannerInput>(["arrivalPerSecond", "tasks", "concurrency", "backlog"]);

/**
 * Given arrival rate, slots, payment duration and tasks: the processing rate,
 * how fast the queue grows, how long the backlog takes to drain, and how many
 * tasks a target age needs — with the study's lesson in words. Live fields
 * follow the fleet until the operator edits them.
 */
export function CapacityPlanner({ live }: { live: LiveFigures }) {
  const [overrides, setOverrides] = useState<Partial<PlannerInput>>({});
  const input: PlannerInput = { ...fromLive(live), ...overrides };
  const r = plan(input);
  const valid = Object.values(input).every((v) => Number.isFinite(v) && v >= 0) && input.slotsPerTask >= 1;
  const growing = r.queueGrowthPerSecond > 0;
  const drain = drainText(r.drainWhileArriving);
  return (
    <div className="stack">
      <div className="row">
        <button type="button" className="small" onClick={() => setOverrides({})}>
          Use live figures
        </button>
        <button type="button" className="small" onClick={() => setOverrides(STUDY_FLASH_SALE)}>
          The study&apos;s flash sale
        </button>
        <span className="faint small">
          Slots and payment duration default to the study&apos;s 5 × 3 s (PAYMENT_SLOTS, PAYMENT_DURATION_MS).
        </span>
      </div>
      <div className="fields" data-testid="planner-inputs">
        {FIELDS.map((f) => (
          <label className="field" key={f.key}>
            <span>
              {f.label} <span className="faint">({f.unit})</span>
              {LIVE_KEYS.has(f.key) && (
                <span className="faint" data-testid={`planner-source-${f.key}`}>
                  {" "}
                  · {f.key in overrides ? "edited" : "live"}
                </span>
              )}
            </span>
            <input
              type="number"
              name={`planner-${f.key}`}
              min={0}
              step={f.step}
              value={Number.isFinite(input[f.key]) ? input[f.key] : ""}
              onChange={(e) =>
                setOverrides({ ...overrides, [f.key]: e.target.value === "" ? Number.NaN : Number(e.target.value) })
              }
            />
          </label>
        ))}
      </div>
      {!valid ? (
        <p className="banner warning small">Every figure must be a number ≥ 0 (slots ≥ 1).</p>
      ) : (
        <>
          <div className="tiles" data-testid="planner-results">
            <div className="tile">
              <div className="label">Processing rate</div>
              <div className="value">{perSecond(r.processingPerSecond)}</div>
              <div className="hint">{num(r.perTaskPerSecond)}/s per task</div>
            </div>
            <div className={`tile ${growing ? "warning" : ""}`}>
              <div className="label">Queue growth</div>
              <div className="value" data-testid="planner-growth">
                {r.queueGrowthPerSecond >= 0 ? "+" : "−"}
                {num(Math.abs(r.queueGrowthPerSecond))}/s
              </div>
              <div className="hint">{growing ? "arrivals outrun the fleet" : "the fleet keeps up"}</div>
            </div>
            <div className={`tile ${drain.severity === "ok" ? "" : drain.severity}`}>
              <div className="label">Drain the backlog</div>
              <div className="value" data-testid="planner-drain">
                {drain.value}
              </div>
              <div className="hint">
                while arrivals continue;{" "}
                {Number.isFinite(r.drainSecondsAfterArrivalsStop) ? seconds(r.drainSecondsAfterArrivalsStop) : "never"}{" "}
                once they stop
              </div>
            </div>
            <div className="tile">
              <div className="label">Tasks to keep up</div>
              <div className="value">{Number.isFinite(r.tasksToKeepUp) ? count(r.tasksToKeepUp) : "—"}</div>
              <div className="hint">queue stops growing</div>
            </div>
            <div className="tile">
              <div className="label">Tasks for a {seconds(input.targetAgeSeconds)} age</div>
              <div className="value" data-testid="planner-tasks-for-age">
                {Number.isFinite(r.tasksForTargetAge) ? count(r.tasksForTargetAge) : "—"}
              </div>
              <div className="hint">autoscaler target ≈ {num(r.targetBacklogPerTask)} orders/task</div>
              {Number.isFinite(r.tasksForTargetAge) && r.tasksForTargetAge >= 1 && (
                <button
                  type="button"
                  className="small"
                  data-testid="planner-use-in-sale"
                  onClick={() => {
                    proposeSaleMinimum(r.tasksForTargetAge);
                    document.getElementById("schedule-sale")?.scrollIntoView({ block: "start" });
                  }}
                >
                  Use this minimum in a sale window
                </button>
              )}
            </div>
            <div className="tile">
              <div className="label">In flight at full load</div>
              <div className="value">{count(r.inFlightAtFullLoad)}</div>
              <div className="hint">
                {r.waitingForSlotPerTask > 0 ? `${r.waitingForSlotPerTask}/task wait for a slot` : "all paying"}
              </div>
            </div>
          </div>
          <div className="lesson" data-testid="planner-lesson">
            {lesson(input).map((line) => (
              <p key={line}>{line}</p>
            ))}
          </div>
          <table className="small" data-testid="planner-study">
            <caption className="faint">What the study concluded, and what this model says</caption>
            <thead>
              <tr>
                <th />
                <th>The study</th>
                <th>Surge</th>
              </tr>
            </thead>
            <tbody>
              {studyWorkersComparison(
                input.slotsPerTask / (input.paymentDurationMs / 1000),
                STUDY_LESSON.targetRatePerSecond,
              ).map((row) => (
                <tr key={row.topic}>
                  <td>{row.topic}</td>
                  <td className="faint">{row.study}</td>
                  <td>{row.surge}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
