import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

import "./harness.js"; // declares the provided `postgresUrl`
import { stopChild } from "./child.js";
import { freePort } from "./ports.js";

function pgBin(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(":")) if (existsSync(join(dir, name))) return join(dir, name);
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort().reverse() : [];
  for (const v of versions) if (existsSync(join(root, v, "bin", name))) return join(root, v, "bin", name);
  throw new Error(`PostgreSQL's ${name} is not installed (apt-get install postgresql); .ci/run installs it`);
}

/**
 * Starts a throwaway PostgreSQL (initdb into a temp dir, fsync off, loopback only)
 * unless SURGE_TEST_POSTGRES_URL points at one. PostgreSQL refuses to run as root,
 * so as root it runs as the `postgres` system user.
 */
export default async function setup(project: TestProject) {
  const given = process.env.SURGE_TEST_POSTGRES_URL;
  if (given) {
    project.provide("postgresUrl", given);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "surge-pg-"));
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) =>
    // setpriv execs the server itself (runuser would stay in between and not pass our signal on).
    (asRoot ? ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", bin, ...args]] : [bin, args]) as [
      string,
      string[],
    ];
  if (asRoot) execFileSync("chown", ["postgres", dir]);
  execFileSync(...run(pgBin("initdb"), ["-D", dir, "-A", "trust", "-U", "postgres", "--no-sync"]), { stdio: "ignore" });
  const port = await freePort();
  const [cmd, args] = run(pgBin("postgres"), [
    "-D",
    dir,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=200",
  ]);
  const server: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  server.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  const { default: pg } = await import("pg");
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`PostgreSQL did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  project.provide("postgresUrl", url);
  return async () => {
    await stopChild(server, "SIGINT", 10_000); // fast shutdown: ends sessions, no checkpoint wait
    rmSync(dir, { recursive: true, force: true });
  };
}
