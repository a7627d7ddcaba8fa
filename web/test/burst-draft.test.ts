import { BURST_BOUNDS, parseBurstSpec } from "@surge/loadgen";
import { describe, expect, it } from "vitest";
import {
  type BurstDraft,
  burstBody,
  DEFAULT_DRAFT,
  draftProblems,
  formField,
  problemList,
  RATE_SHAPES,
} from "../src/lib/burst-draft";

const draft = (over: Partial<BurstDraft>): BurstDraft => ({ ...DEFAULT_DRAFT, ...over });

describe("the burst form's draft", () => {
  it("lists every bad field, not the first one", () => {
    const problems = draftProblems(draft({ users: 999_999, durationSeconds: 0, spawnRate: 0 }), BURST_BOUNDS);
    expect(Object.keys(problems).sort()).toEqual(["durationSeconds", "spawnRate", "users"]);
    expect(problemList(problems)).toEqual([
      "Users: a whole number, 1–2000",
      "Spawn rate: above 0, at most 2000/s",
      "Duration: 0.1–600 s",
    ]);
  });

  it("the default draft is valid and is what the API accepts", () => {
    expect(draftProblems(DEFAULT_DRAFT, BURST_BOUNDS)).toEqual({});
    expect(parseBurstSpec(burstBody(DEFAULT_DRAFT))).toMatchObject({ model: "users", users: 20, spawnRate: 10 });
  });

  it.each(RATE_SHAPES)("the %s shape makes a body the API accepts, up to the rate", (shape) => {
    const body = burstBody(
      draft({ model: "arrival-rate", shape, ratePerSecond: 80, durationSeconds: 40, arrival: "poisson" }),
    );
    const spec = parseBurstSpec(body);
    expect(spec).toMatchObject({ model: "arrival-rate", arrival: "poisson", durationSeconds: 40 });
    if (spec.model !== "arrival-rate") throw new Error("not a rate burst");
    const peak = Math.max(spec.ratePerSecond, ...(spec.stages ?? []).map((s) => s.ratePerSecond));
    expect(peak).toBe(80);
    expect(spec.stages === undefined).toBe(shape === "constant");
  });

  it("sends only the gates that were filled in, and checks them", () => {
    const gates = { ...DEFAULT_DRAFT.gates, p99Ms: 250, drainSeconds: 30 };
    expect(burstBody(draft({ gates })).thresholds).toEqual([
      { metric: "p99Ms", max: 250 },
      { metric: "drainSeconds", max: 30 },
    ]);
    expect(burstBody(DEFAULT_DRAFT).thresholds).toBeUndefined();
    const bad = draftProblems(draft({ gates: { ...gates, failureRatio: 2, p99Ms: -1 } }), BURST_BOUNDS);
    expect(problemList(bad)).toEqual([
      "Gate: p99 latency: at least 0, or empty for no gate",
      "Gate: Failure ratio: a ratio: 0–1",
    ]);
  });

  it("puts an API problem on the gate it names", () => {
    const body = burstBody(draft({ gates: { ...DEFAULT_DRAFT.gates, failureRatio: 0.5, drainSeconds: 3 } }));
    expect(formField("thresholds.1.max", body)).toBe("gates.drainSeconds");
    expect(formField("thresholds.0", body)).toBe("gates.failureRatio");
    expect(formField("stages.0.ratePerSecond", body)).toBe("stages.0.ratePerSecond");
    expect(problemList({ "stages.0.ratePerSecond": "at least 0" })).toEqual(["stages.0.ratePerSecond: at least 0"]);
  });
});
