import { readFileSync, statSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { tempDir } from "@surge/testing";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findOnPath, lastError, startPrometheus, writePrometheusFiles } from "../src/prometheus.js";

const rules = new Map([["rules/surge-alerts.yml", "groups: []\n"]]);

describe("the local stack's Prometheus", () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });
  const dir = () => {
    const d = tempDir("surge-prometheus-");
    dirs.push(d);
    return d.path;
  };

  it("finds an executable on the PATH, and nothing that is not there", () => {
    expect(findOnPath("node", process.env.PATH)).toMatch(/node$/);
    expect(findOnPath("surge-no-such-binary", process.env.PATH)).toBeUndefined();
    expect(findOnPath("node", "")).toBeUndefined();
  });

  it("writes the config with the ports in use and relative paths, and keeps the alerts token across runs", () => {
    const path = dir();
    const first = writePrometheusFiles({ dir: path, apiPort: 18080, lambdaPort: 14581, rules });
    const config = parse(readFileSync(first.configFile, "utf8")) as {
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        static_configs?: Array<{ targets: string[] }>;
        file_sd_configs?: Array<{ files: string[] }>;
      }>;
      alerting: { alertmanagers: Array<{ path_prefix: string; authorization: { credentials_file: string } }> };
    };
    expect(config.rule_files).toEqual(["rules/surge-alerts.yml"]);
    const jobs = Object.fromEntries(config.scrape_configs.map((j) => [j.job_name, j]));
    expect(jobs["surge-api"]?.static_configs?.[0]?.targets).toEqual(["127.0.0.1:18080"]);
    expect(jobs["surge-lambda"]?.static_configs?.[0]?.targets).toEqual(["127.0.0.1:14581"]);
    expect(jobs["surge-workers"]?.file_sd_configs?.[0]?.files).toEqual(["workers.json"]);
    expect(config.alerting.alertmanagers[0]).toMatchObject({
      path_prefix: "/ops/alerts",
      authorization: { credentials_file: "alerts.token" },
    });
    expect(readFileSync(join(path, "rules/surge-alerts.yml"), "utf8")).toBe("groups: []\n");
    expect(first.alertsToken.length).toBeGreaterThanOrEqual(16);
    expect(statSync(join(path, "alerts.token")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(path, "alerts.token"), "utf8")).toBe(first.alertsToken);
    const second = writePrometheusFiles({ dir: path, apiPort: 18081, lambdaPort: 14581, rules });
    expect(second.alertsToken).toBe(first.alertsToken);
  });

  describe("running it", () => {
    const binary = findOnPath("prometheus");
    let blocker: Server | undefined;
    const held = new Set<Socket>();
    afterEach(async () => {
      // The readiness probes' connections stay open (nothing answers them): close() waits for them.
      for (const socket of held) socket.destroy();
      await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
      blocker = undefined;
    });

    it("starts on the port given, answers /-/ready, and stops", async () => {
      if (!binary) throw new Error("this test needs the `prometheus` binary on the PATH");
      const path = dir();
      const { configFile } = writePrometheusFiles({ dir: path, apiPort: 1, lambdaPort: 2, rules });
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, "127.0.0.1", () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      const prometheus = await startPrometheus({
        binary,
        configFile,
        storageDir: join(path, "data"),
        port,
        logFile: join(path, "prometheus.log"),
      });
      expect(prometheus.url).toBe(`http://127.0.0.1:${port}`);
      expect((await fetch(`${prometheus.url}/-/ready`)).status).toBe(200);
      await prometheus.stop();
      await expect(fetch(`${prometheus.url}/-/ready`)).rejects.toThrow();
    });

    it("says why when it cannot start: the port is taken", async () => {
      if (!binary) throw new Error("this test needs the `prometheus` binary on the PATH");
      const path = dir();
      const { configFile } = writePrometheusFiles({ dir: path, apiPort: 1, lambdaPort: 2, rules });
      // Something else on the port that accepts connections and never answers.
      const server = createServer((socket) => held.add(socket));
      blocker = server;
      const port = await new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
      );
      await expect(
        startPrometheus({ binary, configFile, storageDir: join(path, "data"), port, logFile: join(path, "p.log") }),
      ).rejects.toThrow(/^prometheus exited during start-up \(1\): .*address already in use/);
    });
  });

  it("takes the cause from Prometheus' last error line", () => {
    const log = [
      'ts=2026-11-26T10:00:00Z caller=main.go:1 level=info msg="Starting Prometheus"',
      'ts=2026-11-26T10:00:01Z caller=main.go:2 level=error msg="Unable to start web listener" err="listen tcp 127.0.0.1:9090: bind: address already in use"',
    ].join("\n");
    expect(lastError(log)).toBe("listen tcp 127.0.0.1:9090: bind: address already in use");
    expect(lastError("just one line\n")).toBe("just one line");
  });
});
