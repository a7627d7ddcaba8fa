import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort, tempDir, waitFor } from "@surge/testing";
import { afterEach, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");
const stackBundle = join(repoRoot, "infra/local/dist/local.js");

/** Every descendant pid of `pid`, from /proc (the stack's children and theirs). */
function descendants(pid: number): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" });
  const children = new Map<number, number[]>();
  for (const line of out.trim().split("\n")) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (p === undefined || pp === undefined) continue;
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      all.push(c);
      walk(c);
    }
  };
  walk(pid);
  return all;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm start (infra/local/dist/local.js)", () => {
  let stack: ChildProcess | undefined;
  const dir = tempDir("surge-start-");
  afterEach(() => {
    if (stack?.exitCode === null) stack.kill("SIGKILL");
    dir.remove();
  });

  it("prints the URLs and the token, serves orders, and stops every process it started on Ctrl-C", async () => {
    if (!existsSync(stackBundle))
      throw new Error("infra/local/dist/local.js is missing: run `npx turbo run build` first");
    const ports = {
      PORT: await freePort(),
      WEB_PORT: await freePort(),
      EMULATOR_PORT: await freePort(),
      PROMETHEUS_PORT: await freePort(),
      FLEET_CONTROL_PORT: await freePort(),
      LAMBDA_CONTROL_PORT: await freePort(),
    };
    let output = "";
    stack = spawn(process.execPath, [stackBundle], {
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        DATA_DIR: dir.path,
        WORKER_TASKS: "2",
        PAYMENT_DURATION_MS: "50",
        OPS_TOKEN: "start-test-token-0123456789",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    stack.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    stack.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    await waitFor(() => output.includes("operator token"), { timeoutMs: 60_000, what: `the banner; got:\n${output}` });
    expect(output).toContain(`http://127.0.0.1:${ports.PORT}`);
    expect(output).toContain("(from OPS_TOKEN)");

    const api = `http://127.0.0.1:${ports.PORT}`;
    const res = await fetch(`${api}/orders/async`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ customerId: 1, items: [{ productId: "tv", quantity: 1, price: 499 }] }),
    });
    expect(res.status).toBe(202);
    const { orderId } = (await res.json()) as { orderId: string };
    await waitFor(
      async () => ((await (await fetch(`${api}/orders/${orderId}`)).json()) as { status: string }).status === "paid",
      {
        timeoutMs: 30_000,
        what: "the order paid by a worker task",
      },
    );
    expect(existsSync(join(dir.path, "logs/api.log"))).toBe(true);

    const pid = stack.pid ?? 0;
    const started = descendants(pid);
    expect(started.length).toBeGreaterThanOrEqual(3); // the API and two worker tasks at least
    const exited = new Promise<number | null>((r) => stack?.once("exit", (code) => r(code)));
    stack.kill("SIGINT");
    expect(await exited).toBe(0);
    await waitFor(() => started.every((p) => !alive(p)), { timeoutMs: 15_000, what: "no orphans" });
  });
});
