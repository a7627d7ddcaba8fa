import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderReport, type StudyResult } from "../study/report.js";
import { notCompleted, renderSyncDemand, type SyncDemandResult, syncDemandModel } from "../study/sync-demand.js";

const root = join(import.meta.dirname, "../..");
/** The committed run: the renderer is checked on real data, not a hand-made fixture. */
const run = JSON.parse(readFileSync(join(root, "reports/study.json"), "utf8")) as StudyResult;
const report = renderReport(run, { queueDepthSvg: "q.svg", processingRateSvg: "p.svg" });

function section(md: string, heading: string): string {
  const start = md.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const next = md.indexOf("\n## ", start + heading.length);
  return md.slice(start, next < 0 ? undefined : next);
}

/** The cells of the table row whose first cell is `label`. */
function row(md: string, label: string): string[] {
  const line = md.split("\n").find((l) => l.startsWith(`| ${label} |`));
  expect(line, label).toBeDefined();
  return (line as string)
    .split("|")
    .slice(1, -1)
    .map((c) => c.trim());
}

describe("the study report's comparison table", () => {
  const comparison = section(report, "## Sync vs async (the study's comparison table)");

  it("has no median row: the study's table has none", () => {
    expect(comparison).not.toContain("| Median response |");
    expect(comparison).not.toContain("109.1×");
    expect(comparison).toContain("it has no median row");
  });

  it("keeps the study's own improvement figures where its table has them", () => {
    expect(row(comparison, "Total requests")[8]).toBe("30.4×");
    expect(row(comparison, "Avg response")[8]).toBe("97.3×");
    expect(row(comparison, "Max response")[8]).toBe("25.9×");
  });

  it('puts "~52%" in the study column as its estimate, never in the theory column', () => {
    const lost = row(comparison, "Orders lost");
    const [, syncTheory, , syncStudy] = lost;
    expect(syncTheory).not.toContain("52");
    expect(syncStudy).toMatch(/^~52%, the study's estimate from "~200 attempted" \(flash-sale-report\.txt:155-158/);
    expect(comparison).toContain("study-sync-demand.md");
  });
});

describe("the study report's references", () => {
  it("names the lines of every Study column it prints", () => {
    const headers = report.split("\n").filter((l) => l.startsWith("| ") && /\| Study/.test(l));
    expect(headers.length).toBeGreaterThanOrEqual(7);
    for (const header of headers) {
      for (const cell of header.split("|").filter((c) => /^\s*Study/.test(c))) {
        expect(cell, header).toMatch(/flash-sale-report\.txt:\d/);
      }
    }
  });

  it("shows the study's measured conclusion and final answer beside Surge's, not its hypothesis as its lesson", () => {
    const workers = section(report, "## What the study concluded about workers, and what Surge measures");
    expect(row(workers, "Measured conclusion")[1]).toContain("48.5% better than 1 goroutine");
    expect(row(workers, "Final answer for 60 orders/s")[1]).toContain("25 worker processes × 100 goroutines each");
    expect(row(workers, "Final answer for 60 orders/s")[2]).toMatch(/^60 ÷ 1\.67\/s per task = 36 tasks/);
    expect(report).not.toContain("exactly the study's thesis");
  });
});

describe("the sync path under open-loop demand: the FIFO model", () => {
  it("below capacity nobody waits past a payment", () => {
    const o = syncDemandModel({ ratePerSecond: 1, durationSeconds: 60, timeoutMs: 10_000 });
    expect(o).toMatchObject({ arrivals: 60, waitedPast5s: 0, timedOut: 0, refused: 0 });
    expect(o.answered + o.cutOff).toBe(60);
    expect(o.p50Ms).toBe(3000);
  });

  it("above capacity the queue outgrows the timeout: each order's fate follows from its place in line", () => {
    // 2 slots, 1 s payments, 4 arrivals/s for 5 s, 2 s timeout. Arrival k (at k/4 s) waits k/4 + 1 s
    // (k even) or k/4 + 0.75 s (k odd): k = 0..5 are answered within 2 s; k = 6..12 give up at 2 s
    // (before the end at 5 s); k = 13..19 are still waiting at the end, cut off.
    const o = syncDemandModel({ ratePerSecond: 4, durationSeconds: 5, timeoutMs: 2000, slots: 2, paymentMs: 1000 });
    expect(o).toMatchObject({ arrivals: 20, answered: 6, timedOut: 7, cutOff: 7, waitedPast5s: 0 });
    expect(notCompleted(o)).toBe(7);
  });

  it("counts a wait past 5 s whether it ends in an answer, a timeout or the end of the run", () => {
    // 1 slot, 3 s payments, 1 arrival/s for 10 s: arrival k waits 2k + 3 s. Answered: k = 0, 1, 2
    // (3, 5, 7 s). The rest are cut off at 10 s; k = 2, 3, 4 felt 7, 7 and 6 s, k = 5 exactly 5 s.
    const o = syncDemandModel({ ratePerSecond: 1, durationSeconds: 10, timeoutMs: 10_000, slots: 1, paymentMs: 3000 });
    expect(o).toMatchObject({ arrivals: 10, answered: 3, timedOut: 0, cutOff: 7, waitedPast5s: 3, maxMs: 7000 });
  });

  it("renders theory and measurement for each rate beside the study's figure, with its lines", () => {
    const model = syncDemandModel({ ratePerSecond: 3.5, durationSeconds: 60, timeoutMs: 10_000 });
    const result: SyncDemandResult = {
      generatedAt: "2026-12-05 12:00:00 UTC",
      host: "2 × test CPU",
      wallSeconds: 80,
      runs: [{ ratePerSecond: 3.5, durationSeconds: 60, timeoutMs: 10_000, measured: model, loadAverage: 1.5 }],
    };
    const md = renderSyncDemand(result);
    expect(md).toContain("| 3.5/s | theory | 210 |");
    expect(md).toContain("| 3.5/s | measured | 210 |");
    expect(md).toContain("Effective failure rate: 52.5%");
    expect(md).toContain("flash-sale-report.txt:155-158");
    expect(md).toContain("3.5/s 1.50");
    expect(md).not.toMatch(/NaN|undefined/);
  });
});
