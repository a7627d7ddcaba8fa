/**
 * The console end to end, shared by the Chromium tests: the production build against the real
 * local stack (emulator, API, worker tasks, the Lambda runtime) on random ports, Debian's Chromium
 * through playwright-core, and a signed-in page.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Stack, type StackOptions, startStack } from "@surge/local/stack";
import { freePort } from "@surge/testing";
import { CHROMIUM } from "@surge/testing/chromium";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

export const repoRoot = resolve(import.meta.dirname, "../..");

/** Polls `probe` until `ok`, or throws naming `what` and the last value. */
export async function until<T>(
  probe: () => Promise<T> | T,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Builds what the stack runs and the console's production build (turbo skips what is up to date). */
export function buildConsoleStack(): void {
  execFileSync(
    "npx",
    [
      "turbo",
      "run",
      "build",
      "--filter=@surge/api",
      "--filter=@surge/worker",
      "--filter=@surge/cdk",
      "--filter=@surge/web",
      "--output-logs=errors-only",
    ],
    { cwd: repoRoot, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } },
  );
}

export interface ConsoleStack {
  stack: Stack;
  token: string;
  consoleUrl: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Browser console errors and uncaught page errors seen so far. */
  consoleErrors: string[];
  /** The ops API with the operator token. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Opens a console page and waits for the live stream. */
  goto(path: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the stack with the console and signs a Chromium page in. `env` and `overrides` are
 * merged over the defaults (1 task × 5, 1 s payments, autoscaling off, the Lambda runtime on).
 */
export async function startConsoleStack(
  options: {
    env?: Record<string, string>;
    overrides?: Partial<StackOptions>;
    viewport?: { width: number; height: number };
  } = {},
): Promise<ConsoleStack> {
  buildConsoleStack();
  const token = `e2e-operator-${randomBytes(12).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "surge-console-e2e-"));
  const stack = await startStack({
    repoRoot,
    dataDir,
    emulatorPort: 0,
    apiPort: await freePort(),
    opsToken: token,
    workerTasks: 1,
    workerConcurrency: 5,
    maxWorkerTasks: 20,
    visibilityTimeoutSeconds: 10,
    maxReceiveCount: 3,
    names: { topic: "e2e-orders", queue: "e2e-orders", dlq: "e2e-orders-dlq" },
    env: {
      PAYMENT_DURATION_MS: "1000",
      PAYMENT_SLOTS: "5",
      PAYMENT_FAILURE_RATE: "0",
      DATABASE_URL: "",
      AUTOSCALING_ENABLED: "false",
      LOG_LEVEL: "warn",
      SHUTDOWN_DEADLINE_MS: "5000",
      ...options.env,
    },
    supervisor: { stopTimeoutMs: 8000 },
    fleetControlPort: 0,
    lambda: { controlPort: 0, reservedConcurrency: 5, memoryMb: 512, timeoutSeconds: 30, idleTimeoutSeconds: 300 },
    console: { port: await freePort() },
    ...options.overrides,
  });
  const consoleUrl = stack.console?.url ?? "";
  if (!consoleUrl) throw new Error(`the console is not running: ${stack.console?.notRunning}`);
  await until(
    () => fetch(`${consoleUrl}/sign-in`).then((r) => r.status),
    (s) => s === 200,
    "the console",
    60_000,
  );
  await until(
    () => fetch(`${stack.apiUrl}/health`).then((r) => r.status),
    (s) => s === 200,
    "the API",
    60_000,
  );

  const browser = await chromium.launch(CHROMIUM);
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1366, height: 900 } });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: uncaught ${e.message}`));

  await page.goto(`${consoleUrl}/sign-in`);
  await page.fill("input[name=token]", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${consoleUrl}/`);
  await page.locator(".dot.live").waitFor({ timeout: 20_000 });

  return {
    stack,
    token,
    consoleUrl,
    browser,
    context,
    page,
    consoleErrors,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return (await res.json()) as T;
    },
    async goto(path: string) {
      await page.goto(`${consoleUrl}${path}`);
      await page.locator(".dot.live").waitFor({ timeout: 20_000 });
    },
    async close() {
      await browser.close();
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One console stack for the whole file: started before its first test, closed after its last. */
export function consoleStackPerFile(
  set: (stack: ConsoleStack) => void,
  options: Parameters<typeof startConsoleStack>[0] = {},
): void {
  let started: ConsoleStack | undefined;
  beforeAll(async () => {
    started = await startConsoleStack(options);
    set(started);
  }, 900_000);
  afterAll(async () => {
    await started?.close();
  }, 120_000);
}
