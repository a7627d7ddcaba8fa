import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OPS_TOKEN, startBurstApi } from "@surge/api/testing";
import { type BurstStats, formatMs, formatRate, LOCUST_PERCENTILES } from "@surge/loadgen";
import { tempDir, tempSqliteStore } from "@surge/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const CLI = join(import.meta.dirname, "../../packages/loadgen/src/cli/flashsale.ts");

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the flashsale CLI as a user would (`npm run flashsale -- …` runs exactly this). */
function runCli(args: string[], options: { onStart?: (child: ChildProcess) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      // No OPS_TOKEN / SURGE_API_URL from the developer's shell: every test says what it means.
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    options.onStart?.(child);
  });
}

/** `{ rate: "5/s", quiet: true }` → `["--rate", "5/s", "--quiet"]`. */
function flags(options: Record<string, string | true>): string[] {
  return Object.entries(options).flatMap(([name, value]) => (value === true ? [`--${name}`] : [`--${name}`, value]));
}

/** The numbers of Locust's "Aggregated" rows, exactly as printed. */
function aggregated(stdout: string) {
  const rows = stdout.split("\n").filter((l) => /^\s+Aggregated\s/.test(l));
  const [requestsRow, percentilesRow] = rows;
  const m = /Aggregated\s+(\d+)\s+(\d+)\(([\d.]+)%\)\s+\|\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\|\s+(\S+)\s+(\S+)/.exec(
    requestsRow ?? "",
  );
  if (!m || !percentilesRow) throw new Error(`no Aggregated rows in:\n${stdout}`);
  return {
    requests: Number(m[1]),
    failures: Number(m[2]),
    avg: m[4],
    min: m[5],
    max: m[6],
    median: m[7],
    reqPerSecond: m[8],
    failuresPerSecond: m[9],
    percentiles: percentilesRow.trim().split(/\s+/).slice(1, -1),
  };
}

describe("flashsale CLI", () => {
  let t: ReturnType<typeof tempSqliteStore>;
  let out: ReturnType<typeof tempDir>;
  let api: Awaited<ReturnType<typeof startBurstApi>>;
  beforeEach(async () => {
    t = tempSqliteStore();
    out = tempDir();
    api = await startBurstApi(t.store);
  });
  afterEach(async () => {
    await api.close();
    await t.remove();
    out.remove();
  });

  it("prints the same numbers the API reports for the same burst", async () => {
    const jsonFile = join(out.path, "burst.json");
    const csvFile = join(out.path, "burst.csv");
    const run = await runCli(
      flags({
        rate: "40/s",
        duration: "2s",
        mode: "async",
        url: api.url,
        token: OPS_TOKEN,
        json: jsonFile,
        csv: csvFile,
      }),
    );
    expect(run.stderr).not.toMatch(/flashsale:/);
    expect(run.code).toBe(0);

    const list = (await (
      await fetch(`${api.url}/ops/bursts`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })
    ).json()) as { bursts: Array<{ id: string }> };
    expect(list.bursts).toHaveLength(1);
    const id = list.bursts[0]?.id;
    const fromApi = (await (
      await fetch(`${api.url}/ops/bursts/${id}`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })
    ).json()) as BurstStats;
    expect(fromApi.status).toBe("completed");
    expect(fromApi.startedBy).toBe("test-operator");

    const printed = aggregated(run.stdout);
    expect(printed.requests).toBe(fromApi.requests);
    expect(printed.requests).toBeGreaterThan(70);
    expect(printed.failures).toBe(fromApi.failures);
    expect(printed.avg).toBe(formatMs(fromApi.latencyMs.avg));
    expect(printed.min).toBe(formatMs(fromApi.latencyMs.min));
    expect(printed.max).toBe(formatMs(fromApi.latencyMs.max));
    expect(printed.median).toBe(formatMs(fromApi.latencyMs.p50));
    expect(printed.reqPerSecond).toBe(formatRate(fromApi.throughputPerSecond));
    expect(printed.failuresPerSecond).toBe(formatRate(fromApi.failuresPerSecond));
    expect(printed.percentiles).toEqual(LOCUST_PERCENTILES.map(([, key]) => formatMs(fromApi.latencyMs[key])));
    // The JSON export is the API's record itself, the CSV its timeline.
    expect(JSON.parse(readFileSync(jsonFile, "utf8"))).toEqual(fromApi);
    expect(readFileSync(csvFile, "utf8").trim().split("\n")).toHaveLength(fromApi.timeline.length + 1);
  });

  it("--direct runs the engine itself; every answered request is a recorded order", async () => {
    const jsonFile = join(out.path, "direct.json");
    const run = await runCli(
      flags({
        direct: true,
        users: "3",
        "spawn-rate": "30",
        duration: "1500ms",
        "wait-min": "10",
        "wait-max": "20",
        url: api.url,
        json: jsonFile,
        quiet: true,
      }),
    );
    expect(run.code).toBe(0);
    const stats = JSON.parse(readFileSync(jsonFile, "utf8")) as BurstStats;
    expect(aggregated(run.stdout).requests).toBe(stats.requests);
    expect(stats.startedBy).toBe("cli");
    const orders = Object.values(await t.store.countByStatus()).reduce((a, b) => a + b, 0);
    expect(orders).toBeGreaterThanOrEqual(stats.requests);
    expect(orders).toBeLessThanOrEqual(stats.requests + stats.abandoned);
    expect(stats.requests).toBeGreaterThan(20);
  });

  it("exits 1 when failures are over --fail-ratio, 0 when under", async () => {
    const declining = await startBurstApi(t.store, { slots: 5, durationMs: 5, failureRate: 1 });
    try {
      const args = ["--mode", "sync", "--users", "2", "--duration", "1s", "--url", declining.url, "--token", OPS_TOKEN];
      const failing = await runCli(args);
      expect(failing.code).toBe(1);
      expect(failing.stdout).toMatch(/Error report/);
      expect(failing.stdout).toMatch(/POST \/orders\/sync: HTTP 402/);
      expect(failing.stderr).toMatch(/100\.00% of requests failed/);
      const tolerated = await runCli([...args, "--fail-ratio", "1"]);
      expect(tolerated.code).toBe(0);
    } finally {
      await declining.close();
    }
  });

  it("SLO gates: exit 0 when every --threshold passes, 4 on a breach, with the gates printed", async () => {
    const base = ["--rate", "0", "--stage", "1s:30/s", "--arrival", "poisson", "--url", api.url, "--token", OPS_TOKEN];
    const passing = await runCli([...base, "--threshold", "p99Ms=5000", "--threshold", "failureRatio=0", "-q"]);
    expect(passing.stderr).not.toMatch(/flashsale:/);
    expect(passing.code).toBe(0);
    expect(passing.stdout).toMatch(/^p99Ms\s+5000\s+[\d.]+\s+PASS$/m);
    expect(passing.stdout).toMatch(/^failureRatio\s+0\s+0\s+PASS$/m);
    expect(passing.stdout).toMatch(/service time \(send → answer\)/);
    // No worker here: the async orders stay queued, so a drain gate fails once its 1 s bound passes.
    const breached = await runCli([...base, "--threshold", "drainSeconds=1", "--threshold", "p99Ms=5000", "-q"]);
    expect(breached.code).toBe(4);
    expect(breached.stdout).toMatch(/^drainSeconds\s+1\s+[\d.]+\s+FAIL$/m);
    expect(breached.stderr).toMatch(/1 SLO gate\(s\) failed: drainSeconds/);
    const record = (await t.store.listRecords<BurstStats>("burst"))[0]?.data;
    expect(record?.thresholds?.find((g) => g.metric === "drainSeconds")?.pass).toBe(false);
    // A gate the engine cannot measure in-process is refused before anything runs.
    const direct = await runCli(["--direct", "--rate", "5/s", "--url", api.url, "--threshold", "drainSeconds=5"]);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toMatch(/needs the API's order queue/);
    const unknown = await runCli(["--rate", "5/s", "--url", api.url, "--token", OPS_TOKEN, "--threshold", "p95Ms=5"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/thresholds\.0\.metric: metric must be one of p99Ms/);
  });

  it("Ctrl-C stops the burst through the API and still prints the summary", async () => {
    const run = await runCli(
      ["--users", "2", "--duration", "60s", "--url", api.url, "--token", OPS_TOKEN, "--wait-min", "50"],
      {
        onStart: (child) => {
          setTimeout(() => child.kill("SIGINT"), 2500);
        },
      },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/status stopped/);
    const printed = aggregated(run.stdout);
    const record = (await t.store.listRecords<BurstStats>("burst"))[0]?.data;
    expect(record?.status).toBe("stopped");
    expect(printed.requests).toBe(record?.requests);
  });

  it("exits 2 on bad arguments and 3 when the API cannot be reached", async () => {
    const both = await runCli(["--users", "5", "--rate", "5/s"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
    const overBound = await runCli(["--rate", "6000/s", "--token", OPS_TOKEN]);
    expect(overBound.code).toBe(2);
    expect(overBound.stderr).toMatch(/at most 5000/);
    const noToken = await runCli(["--rate", "5/s", "--url", api.url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/OPS_TOKEN/);
    const remoteDirect = await runCli(["--direct", "--rate", "5/s", "--url", "https://shop.example.com"]);
    expect(remoteDirect.code).toBe(2);
    expect(remoteDirect.stderr).toMatch(/only drives a stack on this machine/);
    const unreachable = await runCli(["--rate", "5/s", "--url", "http://127.0.0.1:1", "--token", OPS_TOKEN]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/could not reach/);
  });
});
