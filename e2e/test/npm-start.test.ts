import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
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

/** The command line of `pid` (empty once it is gone). */
const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

/** Every free port `npm start` needs, by variable. */
async function stackPorts() {
  return {
    PORT: await freePort(),
    WEB_PORT: await freePort(),
    EMULATOR_PORT: await freePort(),
    PROMETHEUS_PORT: await freePort(),
    FLEET_CONTROL_PORT: await freePort(),
    LAMBDA_CONTROL_PORT: await freePort(),
  };
}

/** `npm start`'s runner with `env` over the test's own, its stdout and stderr collected. */
function launch(env: Record<string, string | number>): { child: ChildProcess; output: () => string } {
  let output = "";
  // Without OPS_TOKEN and SESSION_SECRET unless `env` sets them: npm start generates and keeps both.
  const { OPS_TOKEN: _token, SESSION_SECRET: _secret, ...inherited } = process.env;
  const child = spawn(process.execPath, [stackBundle], {
    env: {
      ...inherited,
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  return { child, output: () => output };
}

/** Sends SIGINT and resolves with the exit code. */
function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGINT");
  return exited;
}

describe("npm start (infra/local/dist/local.js)", () => {
  let stack: ChildProcess | undefined;
  const dir = tempDir("surge-start-");
  afterEach(() => {
    if (stack && stack.exitCode === null && stack.signalCode === null) stack.kill("SIGKILL");
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
    await waitFor(() => output.includes("\nTry:"), { timeoutMs: 60_000, what: `the banner; got:\n${output}` });
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
    expect(await exited, output).toBe(0);
    await waitFor(() => started.every((p) => !alive(p)), { timeoutMs: 15_000, what: "no orphans" });
  });

  it("keeps a generated operator token in DATA_DIR across restarts, and a closed tab leaves no stack trace", async () => {
    if (!existsSync(stackBundle))
      throw new Error("infra/local/dist/local.js is missing: run `npx turbo run build` first");
    const consoleServer = join(repoRoot, "web/.next/standalone/web/server.js");
    if (!existsSync(consoleServer)) throw new Error(`${consoleServer} is missing: run \`npx turbo run build\` first`);
    const ports = await stackPorts();
    const env = { ...ports, DATA_DIR: dir.path, WORKER_TASKS: "1", PAYMENT_DURATION_MS: "50", LOG_LEVEL: "warn" };
    const first = launch(env);
    stack = first.child;
    await waitFor(() => first.output().includes("\nTry:"), {
      timeoutMs: 90_000,
      what: `the banner; got:\n${first.output()}`,
    });
    const tokenFile = join(dir.path, "ops-token");
    const token = readFileSync(tokenFile, "utf8").trim();
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(`operator token ${token}`);
    expect(first.output()).toContain(`new, kept in ${tokenFile}`);

    // Signed in to the console with it, as a browser is.
    const consoleUrl = `http://127.0.0.1:${ports.WEB_PORT}`;
    const signIn = await fetch(`${consoleUrl}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: consoleUrl },
      body: JSON.stringify({ token }),
    });
    expect(signIn.status).toBe(200);
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).not.toBe("");
    const get = (path: string, signal?: AbortSignal) =>
      fetch(`${consoleUrl}${path}`, { headers: { cookie }, ...(signal && { signal }) });

    // A tab closed on the live stream: the browser drops the connection after the first event.
    const tab = new AbortController();
    const stream = await get("/api/stream", tab.signal);
    expect(stream.status).toBe(200);
    const reader = stream.body?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    tab.abort();
    await reader?.cancel().catch(() => {});

    // A tab closed while the console waits for the API (stopped here, so the request is in flight).
    const apiPid = descendants(stack.pid ?? 0).find((p) => cmdline(p).includes("api/dist/main.js"));
    expect(apiPid).toBeDefined();
    process.kill(apiPid ?? 0, "SIGSTOP");
    try {
      await expect(get("/api/ops/state", AbortSignal.timeout(1500))).rejects.toThrow();
    } finally {
      process.kill(apiPid ?? 0, "SIGCONT");
    }
    // The console goes on serving; by now it has handled both aborts (and logged whatever it would).
    await waitFor(async () => (await get("/api/ops/state")).status === 200, {
      timeoutMs: 15_000,
      what: "the console proxy answering again",
    });
    await new Promise((r) => setTimeout(r, 1000));
    const consoleLog = readFileSync(join(dir.path, "logs/console.log"), "utf8");
    expect(consoleLog).toMatch(/Ready/); // the right log: Next's start-up line is there
    expect(consoleLog).not.toMatch(/ResponseAborted|AbortError|\n\s+at /);

    expect(await stop(stack), first.output()).toBe(0);

    // The next start reuses the token, and the browser's sign-in still works.
    const second = launch(env);
    stack = second.child;
    await waitFor(() => second.output().includes("\nTry:"), {
      timeoutMs: 90_000,
      what: `the second banner; got:\n${second.output()}`,
    });
    expect(second.output()).toContain(`operator token ${token}`);
    expect(second.output()).toContain(`kept in ${tokenFile}`);
    expect(second.output()).not.toContain("new, kept");
    expect((await get("/api/ops/whoami")).status).toBe(200);
    // OPS_TOKEN still wins over the kept one.
    expect(await stop(stack), second.output()).toBe(0);
    const third = launch({ ...env, OPS_TOKEN: "explicit-token-0123456789" });
    stack = third.child;
    await waitFor(() => third.output().includes("\nTry:"), {
      timeoutMs: 90_000,
      what: `the third banner; got:\n${third.output()}`,
    });
    expect(third.output()).toContain("(from OPS_TOKEN)");
    expect(third.output()).not.toContain(token);
    const api = `http://127.0.0.1:${ports.PORT}`;
    const whoami = (t: string) => fetch(`${api}/ops/whoami`, { headers: { authorization: `Bearer ${t}` } });
    expect((await whoami("explicit-token-0123456789")).status).toBe(200);
    expect((await whoami(token)).status).toBe(401);
    expect(await stop(stack), third.output()).toBe(0);
  });
});
