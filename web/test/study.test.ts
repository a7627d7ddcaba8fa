import { describe, expect, it } from "vitest";
import { STUDY_COMPARISON, STUDY_COMPARISON_SOURCES, STUDY_WORKERS, studyWorkersComparison } from "../src/lib/study";

describe("the study's figures in the console", () => {
  it("cite their lines, and mark the sync ~52% lost as the study's estimate", () => {
    for (const key of Object.keys(STUDY_COMPARISON.async) as Array<keyof typeof STUDY_COMPARISON_SOURCES>) {
      expect(STUDY_COMPARISON_SOURCES[key].lines, key).toMatch(/^flash-sale-report\.txt:\d/);
    }
    expect(STUDY_COMPARISON_SOURCES.lostRatio.estimate).toMatch(/~200 orders attempted/);
    expect(STUDY_COMPARISON_SOURCES.p50Ms.lines).toMatch(/no median row/);
    expect(Object.values(STUDY_COMPARISON_SOURCES).filter((s) => s.estimate).length).toBe(1);
  });

  it("shows the study's measured conclusion and final answer beside Surge's, not its hypothesis as its lesson", () => {
    const rows = studyWorkersComparison(5 / 3, 60);
    expect(rows.map((r) => r.topic)).toEqual([
      "Opening hypothesis",
      "Measured conclusion",
      "Final answer for 60 orders/s",
    ]);
    const [hypothesis, conclusion, answer] = rows;
    expect(hypothesis?.study).toContain(STUDY_WORKERS.hypothesis.quote);
    expect(conclusion?.study).toContain("48.5% better than 1 goroutine");
    expect(conclusion?.surge).toContain("1.67/s");
    expect(answer?.study).toBe("25 processes × 100 goroutines, 62 o/s (flash-sale-report.txt:2449-2452)");
    // 60 ÷ (5 ÷ 3 s) is exactly 36: no float error may make it 37.
    expect(answer?.surge).toBe("36 tasks (60 ÷ 1.67); 25 tasks pay 41.67/s.");
  });

  it("follows the planner's physics: 10 slots of 2 s pay 5/s a task", () => {
    expect(studyWorkersComparison(5, 60)[2]?.surge).toBe("12 tasks (60 ÷ 5); 25 tasks pay 125/s.");
  });
});
