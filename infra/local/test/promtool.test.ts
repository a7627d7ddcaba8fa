/**
 * Prometheus' own tool on the generated config and rules: `promtool check config`,
 * `check rules` and `test rules` (the hand-written unit tests in
 * grafana/prometheus/tests/), and a check that every alert has such a test.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { alertingRules, RULE_FILES, recordingRules, renderRuleFile } from "@surge/grafana/prometheus";
import { repoRoot } from "@surge/grafana/testing";
import { tempDir } from "@surge/testing";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findOnPath, writePrometheusFiles } from "../src/prometheus.js";

const promtool = findOnPath("promtool");
const prometheusDir = join(repoRoot, "grafana/prometheus");

/** Runs promtool; a failing check throws with promtool's own explanation. */
function run(args: string[], cwd = prometheusDir): string {
  if (!promtool) throw new Error("these tests need `promtool` on the PATH (apt-get install prometheus)");
  try {
    return execFileSync(promtool, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

describe("promtool", () => {
  const dir = tempDir("surge-promtool-");
  afterAll(() => dir.remove());

  it("check config: the committed prometheus.yml", () => {
    expect(run(["check", "config", "prometheus.yml"])).toMatch(/SUCCESS: prometheus.yml is valid/);
  });

  it("check config: the one npm start writes into DATA_DIR, with its rules and token beside it", () => {
    const { configFile } = writePrometheusFiles({
      dir: dir.path,
      apiPort: 18080,
      lambdaPort: 14581,
      rules: new Map(RULE_FILES.map((path) => [path, readFileSync(join(prometheusDir, path), "utf8")])),
    });
    const out = run(["check", "config", configFile], dir.path);
    expect(out).toMatch(/SUCCESS: 2 rule files found/);
    expect(readFileSync(configFile, "utf8")).toContain("- 127.0.0.1:18080");
  });

  it("check rules: the committed rule files, and the alerting rules rendered with test thresholds", () => {
    const out = run(["check", "rules", ...RULE_FILES]);
    expect(out.match(/SUCCESS/g)).toHaveLength(2);
    const short = join(dir.path, "short-alerts.yml");
    const shortRules = renderRuleFile(
      alertingRules({
        queueAgeWarningSeconds: 2,
        queueAgeWarningFor: "3s",
        queueAgeCriticalSeconds: 3600,
        queueAgeCriticalFor: "1m",
        deadLettersFor: "1s",
        slowerThanArrivalFor: "1m",
        workerTaskDownFor: "5s",
        fleetBelowDesiredFor: "1m",
        outboxStalledSeconds: 5,
        outboxStalledFor: "5s",
        apiDownFor: "5s",
      }),
    );
    writeFileSync(short, shortRules);
    expect(run(["check", "rules", short])).toMatch(/SUCCESS: 9 rules found/);
    expect(renderRuleFile(recordingRules())).toBe(readFileSync(join(prometheusDir, RULE_FILES[0]), "utf8"));
  });

  it("test rules: every alert fires and resolves, every recording rule computes what it should", () => {
    expect(run(["test", "rules", "tests/surge-rules.test.yml"])).toMatch(/SUCCESS/);
  });

  it("every alert has a unit test that shows it firing and one that shows it quiet", () => {
    const tests = parse(readFileSync(join(prometheusDir, "tests/surge-rules.test.yml"), "utf8")) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alertingRules().rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} is never shown firing`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} is never shown quiet or resolved`,
      ).toBe(true);
    }
  });
});
