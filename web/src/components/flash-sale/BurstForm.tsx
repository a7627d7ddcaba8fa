"use client";

import { useState } from "react";
import { describeError, OpsError, ops } from "../../client/ops-client";
import {
  type BurstDraft,
  burstBody,
  type DraftProblems,
  draftProblems,
  formField,
  GATE_FIELDS,
  problemList,
  RATE_SHAPES,
  type RateShape,
} from "../../lib/burst-draft";
import type { BurstBounds, BurstSummary } from "../../lib/ops";
import { PRESETS, STUDY_WAIT_MS } from "../../lib/study";
import { NumberField } from "../fields";
import { useConsole } from "../Shell";

type PresetKey = keyof typeof PRESETS;
type NumericKey = Exclude<keyof BurstDraft, "model" | "mode" | "shape" | "arrival" | "gates">;
type Edit = (patch: Partial<BurstDraft>) => void;

function Presets({ draft, set }: { draft: BurstDraft; set: Edit }) {
  const isPreset = (key: PresetKey) =>
    draft.model === "users" &&
    draft.users === PRESETS[key].users &&
    draft.spawnRate === PRESETS[key].spawnRate &&
    draft.durationSeconds === PRESETS[key].durationSeconds;
  const choose = (key: PresetKey) => {
    const p = PRESETS[key];
    set({
      model: "users",
      users: p.users,
      spawnRate: p.spawnRate,
      durationSeconds: p.durationSeconds,
      waitMinMs: STUDY_WAIT_MS.min,
      waitMaxMs: STUDY_WAIT_MS.max,
    });
  };
  return (
    <div>
      <h3>Preset</h3>
      <div className="row">
        {(Object.keys(PRESETS) as PresetKey[]).map((key) => (
          <button
            key={key}
            type="button"
            aria-pressed={isPreset(key)}
            className={isPreset(key) ? "primary" : ""}
            onClick={() => choose(key)}
            title={PRESETS[key].description}
          >
            {PRESETS[key].label}
          </button>
        ))}
        <span className="faint small">
          {isPreset("flashSale")
            ? PRESETS.flashSale.description
            : isPreset("normal")
              ? PRESETS.normal.description
              : "custom"}
        </span>
      </div>
    </div>
  );
}

/** Which endpoint the burst hits and how its load arrives. */
function LoadShape({ draft, set }: { draft: BurstDraft; set: Edit }) {
  return (
    <div className="row">
      <div>
        <h3>Endpoint</h3>
        <fieldset className="segmented">
          <legend className="sr-only">Endpoint</legend>
          {(["async", "sync"] as const).map((m) => (
            <button key={m} type="button" aria-pressed={draft.mode === m} onClick={() => set({ mode: m })}>
              {m === "async" ? "async (202, queued)" : "sync (waits for payment)"}
            </button>
          ))}
        </fieldset>
      </div>
      <div>
        <h3>Load model</h3>
        <fieldset className="segmented">
          <legend className="sr-only">Load model</legend>
          <button type="button" aria-pressed={draft.model === "users"} onClick={() => set({ model: "users" })}>
            users (Locust)
          </button>
          <button
            type="button"
            aria-pressed={draft.model === "arrival-rate"}
            onClick={() => set({ model: "arrival-rate" })}
          >
            arrival rate (k6)
          </button>
        </fieldset>
      </div>
    </div>
  );
}

const SHAPE_HELP: Record<RateShape, string> = {
  constant: "the rate held for the whole burst",
  ramp: "from 0 up to the rate over the burst",
  step: "25, 50, 75 then 100% of the rate, a quarter of the burst each",
  spike: "a tenth of the rate, the full rate for the middle fifth, then back",
};

/** An arrival-rate burst's shape (k6's stages) and arrival process. */
function RateShapeFields({ draft, set }: { draft: BurstDraft; set: Edit }) {
  return (
    <div className="row">
      <div>
        <h3>Rate shape</h3>
        <fieldset className="segmented">
          <legend className="sr-only">Rate shape</legend>
          {RATE_SHAPES.map((shape) => (
            <button
              key={shape}
              type="button"
              aria-pressed={draft.shape === shape}
              onClick={() => set({ shape })}
              title={SHAPE_HELP[shape]}
            >
              {shape}
            </button>
          ))}
        </fieldset>
        <div className="faint small">{SHAPE_HELP[draft.shape]}</div>
      </div>
      <div>
        <h3>Arrivals</h3>
        <fieldset className="segmented">
          <legend className="sr-only">Arrivals</legend>
          {(["constant", "poisson"] as const).map((arrival) => (
            <button
              key={arrival}
              type="button"
              aria-pressed={draft.arrival === arrival}
              onClick={() => set({ arrival })}
            >
              {arrival === "constant" ? "evenly spaced" : "Poisson"}
            </button>
          ))}
        </fieldset>
      </div>
    </div>
  );
}

/** SLO gates: an empty box is no gate. Decided once the burst (and, for the queue gates, its drain) ends. */
function GateFields({
  draft,
  set,
  problem,
}: {
  draft: BurstDraft;
  set: Edit;
  problem: (key: string) => string | undefined;
}) {
  return (
    <div>
      <h3>SLO gates</h3>
      <div className="fields">
        {GATE_FIELDS.map((g) => (
          <NumberField
            key={g.metric}
            id={`burst-gate-${g.metric}`}
            name={`gate-${g.metric}`}
            label={`${g.label} at most`}
            unit={g.unit}
            step={g.metric === "failureRatio" ? 0.01 : 1}
            min={0}
            placeholder="no gate"
            value={draft.gates[g.metric]}
            onChange={(v) => set({ gates: { ...draft.gates, [g.metric]: v } })}
            problem={problem(`gates.${g.metric}`)}
          />
        ))}
      </div>
      <div className="faint small">
        Oldest order age and drain time watch the queue after the load, until it drains (or the gate is already failed).
      </div>
    </div>
  );
}

/** Every bad field at once, from the form's own checks and from the API's 400. */
export function ProblemSummary({ problems, id }: { problems: DraftProblems; id?: string }) {
  const list = problemList(problems);
  if (list.length === 0) return null;
  return (
    <div className="banner small" role="alert" id={id} data-testid="burst-problems">
      {list.length === 1 ? "Fix this field:" : `Fix these ${list.length} fields:`}
      <ul>
        {list.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </div>
  );
}

/** The API's 400 details as form problems, each on its box where the form has one. */
export function apiProblemsOf(error: unknown, body: Record<string, unknown>): DraftProblems {
  if (!(error instanceof OpsError)) return {};
  return Object.fromEntries(error.details.map((d) => [formField(d.field, body), d.message]));
}

/** The numbers of the chosen model, each with its problem against the bounds. */
function DraftFields({
  draft,
  set,
  problem,
  bounds,
}: {
  draft: BurstDraft;
  set: Edit;
  problem: (key: NumericKey) => string | undefined;
  bounds: BurstBounds | undefined;
}) {
  const field = (
    name: NumericKey,
    label: string,
    more: { unit?: string; step?: number; min?: number; max?: number | undefined; help?: string } = {},
  ) => (
    <NumberField
      {...more}
      id={`burst-${name}`}
      name={name}
      label={label}
      value={draft[name]}
      onChange={(v) => set({ [name]: v })}
      problem={problem(name)}
    />
  );
  const users = draft.model === "users";
  return (
    <div className="fields">
      {users ? (
        <>
          {field("users", "Users", { min: 1, max: bounds?.maxUsers })}
          {field("spawnRate", "Spawn rate", { unit: "users/s", step: 0.1 })}
        </>
      ) : (
        <>
          {field("ratePerSecond", draft.shape === "constant" ? "Arrival rate" : "Peak arrival rate", {
            unit: "orders/s",
            step: 0.1,
            help: "open loop: arrivals keep coming whatever the answers take",
          })}
          {field("maxInFlight", "Max in flight", {
            unit: "requests",
            help: "beyond it, arrivals are dropped and counted",
          })}
        </>
      )}
      {field("durationSeconds", "Duration", { unit: "s", max: bounds?.maxDurationSeconds })}
      {users && (
        <>
          {field("waitMinMs", "Think time min", { unit: "ms" })}
          {field("waitMaxMs", "Think time max", { unit: "ms" })}
        </>
      )}
    </div>
  );
}

export function BurstForm({
  bounds,
  running,
  onStarted,
  draft,
  setDraft,
}: {
  bounds: BurstBounds | undefined;
  running: boolean;
  onStarted: (burst: BurstSummary) => void;
  draft: BurstDraft;
  setDraft: (d: BurstDraft) => void;
}) {
  const { canOperate } = useConsole();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [apiProblems, setApiProblems] = useState<DraftProblems>({});
  const problems = bounds ? draftProblems(draft, bounds) : {};
  const set: Edit = (patch) => {
    setDraft({ ...draft, ...patch });
    setApiProblems({});
  };

  const start = async () => {
    setBusy(true);
    setError(undefined);
    const body = burstBody(draft);
    try {
      onStarted(await ops.post<BurstSummary>("/bursts", body));
    } catch (e) {
      const fromApi = apiProblemsOf(e, body);
      setApiProblems(fromApi);
      // A 400 is listed field by field below; anything else is said as it is.
      if (Object.keys(fromApi).length === 0) setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const invalid = Object.keys(problems).length > 0;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!invalid && !running) void start();
      }}
      aria-label="Start a burst"
    >
      <div className="stack">
        <Presets draft={draft} set={set} />
        <LoadShape draft={draft} set={set} />
        {draft.model === "arrival-rate" && <RateShapeFields draft={draft} set={set} />}
        <DraftFields draft={draft} set={set} bounds={bounds} problem={(key) => problems[key] ?? apiProblems[key]} />
        <GateFields draft={draft} set={set} problem={(key) => problems[key] ?? apiProblems[key]} />
        <ProblemSummary problems={{ ...apiProblems, ...problems }} id="burst-form-problems" />
        {error && (
          <div className="banner small" role="alert">
            {error}
          </div>
        )}
        <div className="row">
          <button
            type="submit"
            className="primary"
            disabled={!canOperate || busy || running || invalid || !bounds}
            aria-describedby={invalid ? "burst-form-problems" : undefined}
          >
            {busy ? "Starting…" : `Start ${draft.mode} burst`}
          </button>
          {running && <span className="muted small">A burst is running: stop it or wait for it to end.</span>}
          {bounds && (
            <span className="faint small">
              bounds: ≤ {bounds.maxUsers} users, ≤ {bounds.maxRatePerSecond}/s, ≤ {bounds.maxDurationSeconds} s; targets
              this deployment only
            </span>
          )}
        </div>
      </div>
    </form>
  );
}
