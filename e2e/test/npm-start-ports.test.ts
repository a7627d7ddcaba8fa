/**
 * `npm start` refuses to print "running" over a piece that is not: a taken port, two pieces on one
 * port, or a child that exits during start-up stop it with a message naming the piece and the
 * variable to change, within 10 s, and with no process left behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join, resolve } from "node:path";
import { freePort, tempDir } from "@surge/testing";
import { afterEach, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");
const stackBundle = join(repoRoot, "infra/local/dist/local.js");
/** The console's server: without a build, npm start runs no console, and its port is never checked. */
const consoleServer = join(repoRoot, "web/.next/standalone/web/server.js");

/** Pids of this user's processes whose environment holds `entry` (e.g. `DATA_DIR=/tmp/…`). */
function processesWith(entry: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(entry)) pids.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

/** Runs `npm start`'s runner until it exits (at most `timeoutMs`): its exit code, output and time taken. */
async function runUntilExit(env: Record<string, string | number>, timeoutMs: number) {
  for (const bundle of [stackBundle, consoleServer])
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npx turbo run build\` first`);
  const { OPS_TOKEN: _token, ...inherited } = process.env;
  const startedAt = Date.now();
  const child: ChildProcess = spawn(process.execPath, [stackBundle], {
    env: {
      ...inherited,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  return { code, output, ms: Date.now() - startedAt };
}

describe("npm start refuses to start over a piece that cannot", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function ports() {
    const dir = tempDir("surge-start-ports-");
    cleanups.push(() => dir.remove());
    return {
      DATA_DIR: dir.path,
      PORT: await freePort(),
      WEB_PORT: await freePort(),
      EMULATOR_PORT: await freePort(),
      PROMETHEUS_PORT: await freePort(),
      FLEET_CONTROL_PORT: await freePort(),
      LAMBDA_CONTROL_PORT: await freePort(),
      WORKER_TASKS: 1,
      PAYMENT_DURATION_MS: 50,
    };
  }

  it("exits non-zero within 10 s, naming the console and WEB_PORT, when another program holds the console's port", async () => {
    const env = await ports();
    const other: Server = createServer((socket) => socket.end("not surge\n"));
    await new Promise<void>((r) => other.listen(env.WEB_PORT, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => other.close(r)));

    const run = await runUntilExit(env, 30_000);
    expect(run.code, run.output).not.toBe(0);
    expect(run.code).not.toBeNull(); // exited by itself, not killed by the test's timeout
    expect(run.ms).toBeLessThan(10_000);
    expect(run.output).toContain(
      `the console could not listen on 127.0.0.1:${env.WEB_PORT} (address in use): set WEB_PORT to a free port`,
    );
    expect(run.output).not.toContain("Surge is running");
    expect(processesWith(`DATA_DIR=${env.DATA_DIR}`)).toEqual([]);
  });

  it("refuses PORT equal to WEB_PORT before starting anything, naming both variables", async () => {
    const env = await ports();
    const run = await runUntilExit({ ...env, PORT: env.WEB_PORT }, 30_000);
    expect(run.code).toBe(2);
    expect(run.output).toContain(
      `PORT and WEB_PORT are both ${env.WEB_PORT} (the API and the console): give each its own port`,
    );
    expect(run.output).not.toContain("Surge is running");
    expect(existsSync(join(env.DATA_DIR, "logs"))).toBe(false); // nothing started, nothing written
  });

  it("stops everything it started when a child exits during start-up, naming it and its log", async () => {
    const env = await ports();
    // Accepted by the runner (it passes RATE_LIMIT_* through), refused by the API: it exits at once.
    const run = await runUntilExit({ ...env, RATE_LIMIT_ORDERS_PER_SECOND: "lots" }, 60_000);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(
      /could not start the local stack: api exited during start-up \(exit \d+\): Error: invalid configuration: RATE_LIMIT_ORDERS_PER_SECOND/,
    );
    expect(run.output).toContain(join(env.DATA_DIR, "logs/api.log"));
    expect(run.output).not.toContain("Surge is running");
    expect(processesWith(`DATA_DIR=${env.DATA_DIR}`)).toEqual([]);
  });
});
