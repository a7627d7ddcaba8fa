"use client";

import { useState } from "react";
import { describeError, OpsError, ops } from "../../client/ops-client";
import type { BurstBounds, BurstSummary } from "../../lib/ops";
import { PRESETS, STUDY_WAIT_MS } from "../../lib/study";
import { useConsole } from "../Shell";

export type BurstModel = "users" | "arrival-rate";
export type BurstMode = "sync" | "async";

export interface BurstDraft {
  model: BurstModel;
  mode: BurstMode;
  users: number;
  spawnRate: number;
  durationSeconds: number;
  waitMinMs: number;
  waitMaxMs: number;
  ratePerSecond: number;
  maxInFlight: number;
}

export const DEFAULT_DRAFT: BurstDraft = {
  model: "users",
  mode: "async",
  users: PRESETS.flashSale.users,
  spawnRate: PRESETS.flashSale.spawnRate,
  durationSeconds: PRESETS.flashSale.durationSeconds,
  waitMinMs: STUDY_WAIT_MS.min,
  waitMaxMs: STUDY_WAIT_MS.max,
  ratePerSecond: 48,
  maxInFlight: 2000,
};

/** The request body for a draft: only the fields of its model. */
export function burstBody(d: BurstDraft): Record<string, unknown> {
  return d.model === "users"
    ? {
        mode: d.mode,
        users: d.users,
        spawnRate: d.spawnRate,
        durationSeconds: d.durationSeconds,
        waitMinMs: d.waitMinMs,
        waitMaxMs: d.waitMaxMs,
      }
    : { mode: d.mode, ratePerSecond: d.ratePerSecond, durationSeconds: d.durationSeconds, maxInFlight: d.maxInFlight };
}

/** Field problems against the API's bounds, checked before sending (the API checks again). */
export function draftProblems(d: BurstDraft, b: BurstBounds): Partial<Record<keyof BurstDraft, string>> {
  const p: Partial<Record<keyof BurstDraft, string>> = {};
  const ok = (v: number) => Number.isFinite(v);
  if (!ok(d.durationSeconds) || d.durationSeconds < 0.1 || d.durationSeconds > b.maxDurationSeconds)
    p.durationSeconds = `0.1–${b.maxDurationSeconds} s`;
  if (d.model === "users") {
    if (!Number.isInteger(d.users) || d.users < 1 || d.users > b.maxUsers) p.users = `1–${b.maxUsers} users`;
    if (!ok(d.spawnRate) || d.spawnRate <= 0 || d.spawnRate > b.maxUsers)
      p.spawnRate = `above 0, at most ${b.maxUsers}/s`;
    if (!ok(d.waitMinMs) || d.waitMinMs < 0 || d.waitMinMs > b.maxWaitMs) p.waitMinMs = `0–${b.maxWaitMs} ms`;
    if (!ok(d.waitMaxMs) || d.waitMaxMs < d.waitMinMs || d.waitMaxMs > b.maxWaitMs)
      p.waitMaxMs = `at least the minimum, at most ${b.maxWaitMs} ms`;
  } else {
    if (!ok(d.ratePerSecond) || d.ratePerSecond <= 0 || d.ratePerSecond > b.maxRatePerSecond)
      p.ratePerSecond = `above 0, at most ${b.maxRatePerSecond}/s`;
    if (!Number.isInteger(d.maxInFlight) || d.maxInFlight < 1 || d.maxInFlight > b.maxInFlight)
      p.maxInFlight = `1–${b.maxInFlight}`;
  }
  return p;
}

function NumberField({
  label,
  value,
  onChange,
  unit,
  problem,
  step = 1,
  min,
  max,
  help,
  name,
}: {
  label: string;
  value: number;
  onChange: (v: number) => void;
  unit?: string;
  problem?: string | undefined;
  step?: number;
  min?: number;
  max?: number;
  help?: string;
  name: string;
}) {
  const id = `burst-${name}`;
  return (
    <label className={`field ${problem ? "invalid" : ""}`} htmlFor={id}>
      <span>
        {label}
        {unit && <span className="faint"> ({unit})</span>}
      </span>
      <input
        id={id}
        name={name}
        type="number"
        inputMode="decimal"
        value={Number.isFinite(value) ? value : ""}
        step={step}
        min={min}
        max={max}
        onChange={(e) => onChange(e.target.value === "" ? Number.NaN : Number(e.target.value))}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
      />
      {problem ? (
        <span className="problem" id={`${id}-problem`}>
          {problem}
        </span>
      ) : (
        help && <span className="help">{help}</span>
      )}
    </label>
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
  const [apiProblems, setApiProblems] = useState<Record<string, string>>({});
  const problems = bounds ? draftProblems(draft, bounds) : {};
  const set = (patch: Partial<BurstDraft>) => {
    setDraft({ ...draft, ...patch });
    setApiProblems({});
  };
  const problem = (key: keyof BurstDraft) => problems[key] ?? apiProblems[key];

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const burst = await ops.post<BurstSummary>("/bursts", burstBody(draft));
      onStarted(burst);
    } catch (e) {
      setError(describeError(e));
      if (e instanceof OpsError) setApiProblems(Object.fromEntries(e.details.map((d) => [d.field, d.message])));
    } finally {
      setBusy(false);
    }
  };

  const preset = (key: keyof typeof PRESETS) => {
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
  const isPreset = (key: keyof typeof PRESETS) =>
    draft.model === "users" &&
    draft.users === PRESETS[key].users &&
    draft.spawnRate === PRESETS[key].spawnRate &&
    draft.durationSeconds === PRESETS[key].durationSeconds;

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
        <div>
          <h3>Preset</h3>
          <div className="row">
            {(Object.keys(PRESETS) as Array<keyof typeof PRESETS>).map((key) => (
              <button
                key={key}
                type="button"
                aria-pressed={isPreset(key)}
                className={isPreset(key) ? "primary" : ""}
                onClick={() => preset(key)}
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
        <div className="fields">
          {draft.model === "users" ? (
            <>
              <NumberField
                name="users"
                label="Users"
                value={draft.users}
                onChange={(v) => set({ users: v })}
                problem={problem("users")}
                min={1}
                max={bounds?.maxUsers}
              />
              <NumberField
                name="spawnRate"
                label="Spawn rate"
                unit="users/s"
                value={draft.spawnRate}
                onChange={(v) => set({ spawnRate: v })}
                problem={problem("spawnRate")}
                step={0.1}
              />
            </>
          ) : (
            <>
              <NumberField
                name="ratePerSecond"
                label="Arrival rate"
                unit="orders/s"
                value={draft.ratePerSecond}
                onChange={(v) => set({ ratePerSecond: v })}
                problem={problem("ratePerSecond")}
                step={0.1}
                help="open loop: arrivals keep coming whatever the answers take"
              />
              <NumberField
                name="maxInFlight"
                label="Max in flight"
                unit="requests"
                value={draft.maxInFlight}
                onChange={(v) => set({ maxInFlight: v })}
                problem={problem("maxInFlight")}
                help="beyond it, arrivals are dropped and counted"
              />
            </>
          )}
          <NumberField
            name="durationSeconds"
            label="Duration"
            unit="s"
            value={draft.durationSeconds}
            onChange={(v) => set({ durationSeconds: v })}
            problem={problem("durationSeconds")}
            max={bounds?.maxDurationSeconds}
          />
          {draft.model === "users" && (
            <>
              <NumberField
                name="waitMinMs"
                label="Think time min"
                unit="ms"
                value={draft.waitMinMs}
                onChange={(v) => set({ waitMinMs: v })}
                problem={problem("waitMinMs")}
              />
              <NumberField
                name="waitMaxMs"
                label="Think time max"
                unit="ms"
                value={draft.waitMaxMs}
                onChange={(v) => set({ waitMaxMs: v })}
                problem={problem("waitMaxMs")}
              />
            </>
          )}
        </div>
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
