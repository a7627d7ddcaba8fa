import { statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { freePort, tempDir } from "@surge/testing";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnv } from "../src/env.js";
import { keptOpsToken, keptSecret, opsTokenFile } from "../src/kept-secrets.js";
import { assertPortsFree, portClashes } from "../src/ports.js";
import { Service } from "../src/service.js";

describe("npm start's start-up checks", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const dir = () => {
    const d = tempDir("surge-start-up-");
    cleanups.push(() => d.remove());
    return d.path;
  };
  const hold = async (port: number) => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
  };

  it("refuses two pieces on one port, naming both variables", () => {
    expect(() => loadEnv({ PORT: "3000" })).toThrow(
      "PORT and WEB_PORT are both 3000 (the API and the console): give each its own port",
    );
    expect(() => loadEnv({ PROMETHEUS_PORT: "4566" })).toThrow(/EMULATOR_PORT and PROMETHEUS_PORT are both 4566/);
    // The Lambda runtime's port only counts when it runs.
    expect(() => loadEnv({ LAMBDA_CONTROL_PORT: "4580" })).toThrow(/FLEET_CONTROL_PORT and LAMBDA_CONTROL_PORT/);
    expect(() => loadEnv({ LAMBDA_CONTROL_PORT: "4580", LAMBDA_ENABLED: "false" })).not.toThrow();
    expect(loadEnv({}).PORT).toBe(8080);
    // Port 0 (any free port, as tests use) never clashes.
    expect(
      portClashes([
        { piece: "a", port: 0, variable: "A" },
        { piece: "b", port: 0, variable: "B" },
      ]),
    ).toEqual([]);
  });

  it("names the piece, the address and the variable of every taken port", async () => {
    const [taken, free] = [await freePort(), await freePort()];
    await hold(taken);
    await expect(
      assertPortsFree([
        { piece: "the API", port: free, variable: "PORT" },
        { piece: "the console", port: taken, variable: "WEB_PORT" },
      ]),
    ).rejects.toThrow(
      `the console could not listen on 127.0.0.1:${taken} (address in use): set WEB_PORT to a free port, or stop what holds it`,
    );
    // The check let go of the free port again.
    await expect(assertPortsFree([{ piece: "the API", port: free, variable: "PORT" }])).resolves.toBeUndefined();
    await hold(free);
  });

  it("fails a child's start-up as soon as it exits, with the reason from its output", async () => {
    const logDir = dir();
    const script = join(logDir, "child.cjs");
    writeFileSync(
      script,
      "console.error('Error: listen EADDRINUSE: address already in use 127.0.0.1:1'); process.exit(1);\n",
    );
    const service = new Service({ name: "console", script, env: {}, logDir });
    service.start();
    cleanups.push(() => service.stop());
    const at = Date.now();
    const error = await service.whenReady(async () => false, 30_000).catch((e: NodeJS.ErrnoException) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
    expect((error as Error).message).toMatch(/^console exited during start-up \(exit 1\): Error: listen EADDRINUSE/);
    expect((error as Error).message).toContain(join(logDir, "console.log"));
    expect(Date.now() - at).toBeLessThan(10_000);
  });

  it("resolves a child's start-up once it serves", async () => {
    const logDir = dir();
    const port = await freePort();
    const script = join(logDir, "child.cjs");
    writeFileSync(script, `require("node:http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1");\n`);
    const service = new Service({ name: "api", script, env: {}, logDir });
    service.start();
    cleanups.push(() => service.stop());
    await service.whenReady(async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 30_000);
  });
});

describe("the operator token npm start generates", () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it("is kept in DATA_DIR/ops-token, mode 0600, and reused on the next start", () => {
    const d = tempDir("surge-token-");
    dirs.push(d);
    const dataDir = join(d.path, "var"); // not there yet: created
    const first = keptOpsToken(dataDir);
    expect(first.created).toBe(true);
    expect(first.file).toBe(opsTokenFile(dataDir));
    expect(first.token.length).toBeGreaterThanOrEqual(16);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const second = keptOpsToken(dataDir);
    expect(second).toEqual({ ...first, created: false });
  });

  it("replaces a file too short to be a token, and tightens a loose mode", () => {
    const d = tempDir("surge-token-");
    dirs.push(d);
    const file = join(d.path, "secret");
    writeFileSync(file, "short\n", { mode: 0o644 });
    const replaced = keptSecret(file, 24, 16);
    expect(replaced.created).toBe(true);
    expect(replaced.value).not.toBe("short");
    writeFileSync(file, "a-token-someone-copied-in-0123\n", { mode: 0o644 });
    expect(keptSecret(file, 24, 16)).toEqual({ value: "a-token-someone-copied-in-0123", created: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
