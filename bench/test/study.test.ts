import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@surge/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checks, type StudyResult, stepFigures } from "../study/report.js";

const root = join(import.meta.dirname, "../..");

/**
 * CI runs the whole study at a tenth of its time (`npm run study -- --time-scale 0.1`):
 * every experiment on a real local stack, the report regenerated from the run.
 */
describe("npm run study --time-scale 0.1", () => {
  const out = tempDir("surge-study-ci-");
  let exitCode: number | null = null;
  let stderr = "";

  beforeAll(async () => {
    if (!existsSync(join(root, "api/dist/main.js")) || !existsSync(join(root, "worker/dist/main.js"))) {
      spawnSync("npx", ["turbo", "run", "build", "--output-logs=errors-only"], { cwd: root, stdio: "inherit" });
    }
    exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "bench/study.ts", "--time-scale", "0.1", "--out-dir", out.path],
        { cwd: root, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } },
      );
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      child.on("exit", resolve);
    });
  }, 300_000);
  afterAll(() => out.remove());

  it("completes and writes the report, its data and both charts", () => {
    expect(exitCode, stderr).toBe(0);
    const report = readFileSync(join(out.path, "study.md"), "utf8");
    for (const heading of [
      "## The issue's acceptance checks",
      "## Test 1 — normal operations",
      "## Test 2 — flash sale, synchronous",
      "## Test 3 — the same flash sale, asynchronous",
      "## Sync vs async",
      "### Processing rate",
      "### Peak queue depth",
      "### Time to drain",
    ]) {
      expect(report).toContain(heading);
    }
    expect(report).toContain("| Theory | Measured | Study |");
    expect(report).toContain("![Queue depth over time](queue-depth.svg)");
    expect(report).toContain("![Processing rate by concurrency](processing-rate.svg)");
    expect(report).not.toMatch(/NaN|undefined|Infinity/);
    const depth = readFileSync(join(out.path, "queue-depth.svg"), "utf8");
    expect(depth.match(/<path /g)?.length).toBe(8); // measured and theory for 1, 5, 20, 100
    const rates = readFileSync(join(out.path, "processing-rate.svg"), "utf8");
    expect(rates.match(/<rect x=/g)?.length).toBe(12); // theory, measured, study × 4
  });

  it("meets the issue's acceptance checks", () => {
    const result = JSON.parse(readFileSync(join(out.path, "study.json"), "utf8")) as StudyResult;
    for (const check of checks(result)) expect(check.pass, `${check.name}: ${check.measured}`).toBe(true);
    expect(result.test2.requests).toBeGreaterThanOrEqual(90);
    expect(result.test2.requests).toBeLessThanOrEqual(100);
  });

  it("shows the study's physics: one task never pays faster than 5 ÷ 3 s, whatever its concurrency", () => {
    const result = JSON.parse(readFileSync(join(out.path, "study.json"), "utf8")) as StudyResult;
    expect(result.sweep.map((s) => s.concurrency)).toEqual([1, 5, 20, 100]);
    for (const step of result.sweep) {
      const f = stepFigures(step, result.timeScale);
      expect(step.burst.failures).toBe(0);
      expect(f.processing).toBeLessThanOrEqual(f.mu * 1.05);
      // At this time scale each receive round trip weighs 10×, so below the slots the rate sits a little lower.
      expect(f.processing).toBeGreaterThanOrEqual(f.mu * (step.concurrency > 5 ? 0.9 : 0.75));
      // Every 202 is a recorded order (a request cut off at the end may or may not have been recorded).
      const accepted = step.samples.at(-1)?.accepted ?? 0;
      expect(accepted).toBeGreaterThanOrEqual(step.burst.requests);
      expect(accepted).toBeLessThanOrEqual(step.burst.requests + step.burst.abandoned);
    }
  });
});
