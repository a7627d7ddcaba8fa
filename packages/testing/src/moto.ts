import { type ChildProcess, execFileSync, spawn } from "node:child_process";

import { stopChild } from "./child.js";
import { freePort } from "./ports.js";

/** A running `moto_server` (moto 5, the image's python3): an AWS wire-protocol server on loopback. */
export interface Moto {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint` or `AWS_ENDPOINT_URL`. */
  endpoint: string;
  /** The SDK configuration every client needs against it. */
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** The environment a child process needs to reach it through the standard SDK configuration. */
  env: Record<string, string>;
  /** Forgets every resource (moto's own reset API): tests that share one server call it between files. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Fails with the package to install when moto is missing, so a suite never skips silently. */
export function assertMotoInstalled(): void {
  try {
    execFileSync("python3", ["-c", "import moto"], { stdio: "pipe" });
  } catch {
    throw new Error(
      "the python3 package moto (moto[server] 5.2.1, which provides moto_server) is missing: the AWS-mode tests need it",
    );
  }
}

/** Starts `moto_server -H 127.0.0.1 -p PORT` and waits until it answers. */
export async function startMoto(region = "us-east-1"): Promise<Moto> {
  assertMotoInstalled();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  // moto without its server extra (or a PATH without it): spawn fails, and says so here.
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  // A test process that ends without stop() (a crash, a timeout) leaves no server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError) {
      throw new Error(
        `moto_server could not start (${spawnError.message}): install moto[server] 5.2.1, which provides it`,
      );
    }
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}):\n${stderr}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
  return {
    endpoint,
    clientConfig: { endpoint, region, credentials },
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
    stop: () => stopChild(child),
  };
}
