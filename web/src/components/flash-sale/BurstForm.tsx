"use client";

import { useState } from "react";
import { describeError, OpsError, ops } from "../../client/ops-client";
import { type BurstDraft, burstBody, type DraftProblems, draftProblems } from "../../lib/burst-draft";
import type { BurstBounds, BurstSummary } from "../../lib/ops";
import { PRESETS, STUDY_WAIT_MS } from "../../lib/study";
import { NumberField } from "../fields";
import { useConsole } from "../Shell";

type PresetKey = keyof typeof PRESETS;
type NumericKey = Exclude<keyof BurstDraft, "model" | "mode">;
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
          {field("ratePerSecond", "Arrival rate", {
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
    try {
      onStarted(await ops.post<BurstSummary>("/bursts", burstBody(draft)));
    } catch (e) {
      setError(describeError(e));
      if (e instanceof OpsError) setApiProblems(Object.fromEntries(e.details.map((d) => [d.field, d.message])));
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
        <DraftFields draft={draft} set={set} bounds={bounds} problem={(key) => problems[key] ?? apiProblems[key]} />
        {error && (
          <div className="banner small" role="alert">
            {error}
          </div>
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={!canOperate || busy || running || invalid || !bounds}>
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
