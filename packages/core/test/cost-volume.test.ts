import { describe, expect, it } from "vitest";
import { deriveStudyVolumeTable, STUDY_VOLUME_TABLES } from "../src/cost.js";

const rows = (table: keyof typeof STUDY_VOLUME_TABLES) => deriveStudyVolumeTable(STUDY_VOLUME_TABLES[table]);
const at = (table: keyof typeof STUDY_VOLUME_TABLES, orders: number) => {
  const row = rows(table).find((r) => r.study.ordersPerMonth === orders);
  if (!row) throw new Error(`no ${orders} row`);
  return row;
};

describe("the study's volume tables, derived from the cost model", () => {
  it("cites a line for every row it transcribes", () => {
    for (const table of Object.values(STUDY_VOLUME_TABLES)) {
      expect(table.lines).toMatch(/^flash-sale-report\.txt:\d+-\d+$/);
      for (const row of table.rows) expect(row.lines).toMatch(/^flash-sale-report\.txt:\d+$/);
    }
  });

  it("derives every savings percentage from the study's own two columns (rounded or truncated as it prints them)", () => {
    for (const table of ["realWorld", "perOrder"] as const) {
      for (const r of rows(table)) {
        expect(
          r.disagreements.filter((d) => d.startsWith("savings")),
          `${r.study.ordersPerMonth}`,
        ).toEqual([]);
      }
    }
    expect(at("realWorld", 500_000).savingsFromItsColumns).toBeCloseTo(1 - 8.33 / 80, 10);
    // −66.7% printed as "-66%": a truncation, not a disagreement.
    expect(at("perOrder", 10_000_000).savingsFromItsColumns).toBeCloseTo(-2 / 3, 10);
  });

  it("flags the Lambda figures its prices do not give, and only those", () => {
    const flagged = rows("realWorld")
      .filter((r) => r.disagreements.some((d) => d.startsWith("Lambda")))
      .map((r) => r.study.ordersPerMonth);
    expect(flagged).toEqual([500_000, 2_000_000, 5_000_000, 10_000_000]);
    expect(at("realWorld", 500_000).disagreements[0]).toBe("Lambda: its prices give $5.83, not $8.33");
    // The per-order table prices $0.000025 an order without the free tier: every row follows.
    expect(rows("perOrder").every((r) => !r.disagreements.some((d) => d.startsWith("Lambda")))).toBe(true);
    expect(at("perOrder", 1_000_000).model.lambdaUsd).toBeCloseTo(25, 2);
  });

  it("flags the ECS column: two tasks always on cost $20.44, which the study's $20 rows match and its others do not", () => {
    expect(at("realWorld", 1_000).disagreements).toEqual([]);
    expect(at("realWorld", 1_000).model.fargateUsd).toBeCloseTo(20.44, 2);
    expect(at("realWorld", 1_000_000).disagreements).toEqual(["ECS: the model gives $20.44, not $98.00"]);
    // 10M orders × 3 s ÷ 5 slots = 1,667 task-hours, past the 1,440 two tasks run: the fleet scales out.
    expect(at("realWorld", 10_000_000).model.fargateUsd).toBeCloseTo(((10_000_000 * 3) / 5 / 3600) * 0.0142, 1);
    expect(at("realWorld", 10_000_000).disagreements).toContain("ECS: the model gives $23.66, not $500+");
  });

  it("derives the ECS column for any fleet the model is given", () => {
    // The study's Part III fleet: 25 tasks around the clock for 60 orders/s (flash-sale-report.txt:3826-3827).
    const always25 = deriveStudyVolumeTable(STUDY_VOLUME_TABLES.perOrder, { minTasks: 25 });
    expect(always25[0]?.model.fargateUsd).toBeCloseTo(25 * 720 * 0.0142, 0);
    expect(always25[0]?.disagreements).toEqual(["ECS: the model gives $255.51, not $150.00"]);
  });
});
