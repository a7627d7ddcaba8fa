/**
 * The console end to end: the production build (Next's standalone server, as
 * `npm start` and the image run it) against the real local stack — emulator,
 * API, worker tasks, the Lambda runtime, Prometheus when installed — on random
 * ports, driven through Debian's Chromium by playwright-core.
 *
 * It signs in, fires a short async burst and sees the queue rise on the
 * timeline, scales to 4 tasks and sees them run and the queue drain, changes
 * the concurrency, dead-letters a poison message and redrives it, routes orders
 * to Lambda, signs out and is refused. No browser console error is allowed, and
 * every page is photographed: into a temporary directory, or into SCREENSHOTS_DIR
 * when set (SCREENSHOTS_DIR=docs/screenshots refreshes docs/console.md's pictures), so
 * a test run leaves the working tree as it found it.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type Stack, startStack } from "@surge/local/stack";
import { freePort } from "@surge/testing";
import { CHROMIUM } from "@surge/testing/chromium";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsoleStack, repoRoot, until } from "./console-stack.js";

const screenshots = process.env.SCREENSHOTS_DIR
  ? resolve(repoRoot, process.env.SCREENSHOTS_DIR)
  : mkdtempSync(join(tmpdir(), "surge-console-screenshots-"));
const TOKEN = `e2e-operator-${randomBytes(12).toString("hex")}`;
const PAYMENT_MS = 1000;

let stack: Stack;
let dataDir: string;
let consoleUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

/** The number a tile shows ("1,234" → 1234). */
async function tileNumber(testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).locator(".value").textContent()) ?? "";
  return Number(text.replace(/[^0-9.]/g, ""));
}

async function shot(name: string, options: { fullPage?: boolean } = {}) {
  // From the top: a full-page shot of a scrolled page draws the sticky header over the content.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: options.fullPage ?? true });
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return (await res.json()) as T;
}

async function goto(path: string) {
  await page.goto(`${consoleUrl}${path}`);
  await page.locator(".dot.live").waitFor({ timeout: 20_000 });
}

beforeAll(async () => {
  // The bundles the stack runs and the console's production build, fresh (turbo skips what is up to date).
  buildConsoleStack();
  mkdirSync(screenshots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "surge-console-e2e-"));
  const consolePort = await freePort();
  stack = await startStack({
    repoRoot,
    dataDir,
    emulatorPort: 0,
    apiPort: await freePort(),
    opsToken: TOKEN,
    workerTasks: 1,
    workerConcurrency: 5,
    maxWorkerTasks: 20,
    visibilityTimeoutSeconds: 10,
    maxReceiveCount: 3,
    names: { topic: "e2e-orders", queue: "e2e-orders", dlq: "e2e-orders-dlq" },
    env: {
      PAYMENT_DURATION_MS: String(PAYMENT_MS),
      PAYMENT_SLOTS: "5",
      PAYMENT_FAILURE_RATE: "0",
      DATABASE_URL: "",
      AUTOSCALING_ENABLED: "false",
      LOG_LEVEL: "warn",
      SHUTDOWN_DEADLINE_MS: "5000",
    },
    supervisor: { stopTimeoutMs: 8000 },
    fleetControlPort: 0,
    prometheus: { port: await freePort() },
    lambda: { controlPort: 0, reservedConcurrency: 5, memoryMb: 512, timeoutSeconds: 30, idleTimeoutSeconds: 300 },
    // A Grafana URL, so the pages link their dashboards (nothing needs to answer there).
    console: { port: consolePort, grafanaUrl: "http://127.0.0.1:3001" },
  });
  consoleUrl = stack.console?.url ?? "";
  expect(consoleUrl, stack.console?.notRunning).not.toBe("");
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

  browser = await chromium.launch(CHROMIUM);
  context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: uncaught ${e.message}`));
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  // Pictures asked for stay; the default ones go (set SCREENSHOTS_DIR to keep a failing run's).
  if (!process.env.SCREENSHOTS_DIR) rmSync(screenshots, { recursive: true, force: true });
}, 120_000);

describe("ops console, end to end", () => {
  it("refuses everything before sign-in", async () => {
    const home = await fetch(`${consoleUrl}/`, { redirect: "manual" });
    expect(home.status).toBe(307);
    expect(home.headers.get("location")).toMatch(/\/sign-in$/);
    expect((await fetch(`${consoleUrl}/api/ops/state`)).status).toBe(401);
    expect((await fetch(`${consoleUrl}/api/stream`)).status).toBe(401);
  }, 240_000);

  it("signs in with the operator token, kept in an httpOnly cookie and nowhere in the page", async () => {
    await page.goto(`${consoleUrl}/`);
    await page.waitForURL(/\/sign-in/);
    await shot("sign-in", { fullPage: false });
    await page.fill("input[name=token]", "not-the-token-at-all");
    await page.click("button[type=submit]");
    await page.getByText("The API refused that token").waitFor();
    await page.fill("input[name=token]", TOKEN);
    await page.click("button[type=submit]");
    await page.waitForURL(`${consoleUrl}/`);
    await page.locator(".dot.live").waitFor({ timeout: 20_000 });

    const [cookie] = (await context.cookies()).filter((c) => c.name.includes("surge_session"));
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Strict");
    expect(cookie?.value).not.toContain(TOKEN);
    expect(page.url()).not.toContain(TOKEN);
    expect(await page.content()).not.toContain(TOKEN);
    expect(await page.evaluate(() => document.cookie)).not.toContain("surge_session");
    // Nor in any script the browser loaded.
    const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src).filter(Boolean));
    for (const src of scripts) expect(await (await fetch(src)).text()).not.toContain(TOKEN);
  }, 240_000);

  it("refuses a cross-site mutation, even with the session cookie", async () => {
    const cookie = (await context.cookies()).find((c) => c.name.includes("surge_session"));
    const forged = await fetch(`${consoleUrl}/api/ops/fleet`, {
      method: "PUT",
      headers: {
        cookie: `${cookie?.name}=${cookie?.value}`,
        origin: "http://evil.example",
        "content-type": "application/json",
      },
      body: JSON.stringify({ desiredCount: 20 }),
    });
    expect(forged.status).toBe(403);
    const noToken = await fetch(`${consoleUrl}/api/ops/fleet`, {
      method: "PUT",
      headers: { cookie: `${cookie?.name}=${cookie?.value}`, origin: consoleUrl, "content-type": "application/json" },
      body: JSON.stringify({ desiredCount: 20 }),
    });
    expect(noToken.status).toBe(403);
    expect((await api<{ desiredCount: number }>("GET", "/ops/fleet")).desiredCount).toBe(1);
  }, 240_000);

  it("fires a short async burst and sees the queue rise on the timeline", async () => {
    await goto("/flash-sale");
    await page.getByRole("button", { name: "arrival rate (k6)" }).click();
    await page.fill("input[name=ratePerSecond]", "40");
    await page.fill("input[name=durationSeconds]", "6");
    await page.getByRole("button", { name: "Start async burst" }).click();
    await page.getByTestId("active-burst").waitFor();
    await until(
      () => page.getByTestId("burst-requests").textContent(),
      (t) => Number(t?.replace(/,/g, "")) > 20,
      "burst answers",
    );
    await shot("flash-sale");

    // An alert, as Grafana's contact point delivers it: the Overview lists it and the top bar flags it.
    await api("POST", "/ops/alerts", {
      orgId: 1,
      alerts: [
        {
          status: "firing",
          labels: { alertname: "SurgeQueueAgeWarning", severity: "warning" },
          annotations: { summary: "The oldest order has waited over 60 s" },
          startsAt: new Date().toISOString(),
        },
      ],
    });
    await goto("/");
    await page.getByTestId("alert-firing").filter({ hasText: "SurgeQueueAgeWarning" }).waitFor();
    await page.getByRole("link", { name: "1 alert firing" }).waitFor();
    // One task pays 5 per second against 40 arriving: the queue must climb.
    const visible = await until(
      () => tileNumber("tile-waiting"),
      (n) => n >= 30,
      "the queue to rise",
      30_000,
    );
    expect(visible).toBeGreaterThanOrEqual(30);
    // And the timeline itself has it: read the crosshair at the newest second.
    const canvas = page.getByTestId("timeline-canvas");
    await page.getByRole("button", { name: "5 min", exact: true }).click();
    // The right edge of the first panel's plot area (uPlot's .u-over takes the pointer).
    const box = await canvas.locator(".u-over").first().boundingBox();
    if (!box) throw new Error("no timeline plot");
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const tip = page.locator(".chart-tip");
    await tip.waitFor();
    const value = (await tip.locator("[data-series=visible] .num").textContent()) ?? "";
    expect(Number(value.replace(/[^0-9.]/g, ""))).toBeGreaterThan(0);
    await page.mouse.move(0, 0);
    // Keyboard: the chart takes focus and the arrow keys walk the seconds.
    await canvas.focus();
    await page.keyboard.press("ArrowLeft");
    await tip.waitFor();
    await page.keyboard.press("Escape");
    await canvas.blur();
    // The matching Grafana dashboard, since a Grafana URL is configured.
    expect(await page.getByRole("link", { name: /Surge \/ Overview in Grafana/ }).getAttribute("href")).toBe(
      "http://127.0.0.1:3001/d/surge-overview?from=now-1h&to=now&refresh=5s",
    );
    await page.waitForTimeout(1500);
    await shot("overview");
  }, 240_000);

  it("scales to 4 tasks, sees 4 running and the queue drain", async () => {
    await goto("/workers");
    await page.fill("#desired-count", "4");
    await page.getByRole("button", { name: "Apply" }).click();
    // 1 → 4 is more than ×3: the one confirmation rule asks first.
    await page
      .locator("dialog[open]")
      .getByRole("button", { name: /^Scale to 4/ })
      .click();
    await until(
      () => tileNumber("workers-running"),
      (n) => n === 4,
      "4 running tasks",
      60_000,
    );
    await until(
      () => page.getByTestId("task-row").count(),
      (n) => n === 4,
      "4 task rows",
    );
    await page.locator("[data-testid=activity-row]", { hasText: "1 → 4" }).first().waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("controlled-by").textContent()).toBe("an operator");
    await goto("/");
    await until(
      () => tileNumber("tile-waiting"),
      (n) => n === 0,
      "the queue to drain",
      90_000,
    );
    await until(
      () => api<{ queue: { backlog: number } }>("GET", "/ops/state"),
      (s) => s.queue.backlog === 0,
      "no backlog",
      60_000,
    );
    await page.waitForTimeout(2000);
    await shot("overview-drained");
  }, 240_000);

  it("changes the concurrency, and asks before a big jump", async () => {
    await goto("/workers");
    await page.fill("#concurrency", "10");
    await page.getByRole("button", { name: "Apply" }).click();
    await until(
      () => tileNumber("workers-concurrency"),
      (n) => n === 10,
      "concurrency 10",
    );
    expect((await api<{ concurrency: number }>("GET", "/ops/fleet")).concurrency).toBe(10);
    // The planner, on live figures, says what concurrency 10 over 5 slots buys: in-flight, not throughput.
    await page.getByRole("button", { name: "Use live figures" }).click();
    expect(await page.getByTestId("planner-lesson").textContent()).toMatch(
      /Concurrency 10 is above the 5 payment slots/,
    );

    // 4 → 18 tasks at once is a big jump: a confirmation, and Cancel leaves the fleet alone.
    await page.fill("#desired-count", "18");
    await page.getByRole("button", { name: "Apply" }).click();
    const dialog = page.locator("dialog[open]");
    await dialog.getByText("adds 14 tasks at once").waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect((await api<{ desiredCount: number }>("GET", "/ops/fleet")).desiredCount).toBe(4);
    await page.getByRole("button", { name: "Reset to live" }).click();
    await shot("workers");
  }, 240_000);

  it("changes users mid-run and stops a burst; runs the same burst sync and async side by side", async () => {
    await goto("/flash-sale");
    await page.getByRole("button", { name: "users (Locust)" }).click();
    await page.fill("input[name=users]", "2");
    await page.fill("input[name=spawnRate]", "10");
    await page.fill("input[name=durationSeconds]", "30");
    await page.getByRole("button", { name: "Start async burst" }).click();
    await until(
      () => page.getByTestId("burst-users").textContent(),
      (t) => /users 2 \/ 2/.test(t ?? ""),
      "2 users",
    );
    await page.fill("input[name=change-users]", "4");
    await page.getByRole("button", { name: "Apply while running" }).click();
    await until(
      () => page.getByTestId("burst-users").textContent(),
      (t) => /users 4 \/ 4/.test(t ?? ""),
      "4 users",
    );
    await page.getByRole("button", { name: "Stop burst" }).click();
    await page.getByRole("button", { name: /^Start async burst/ }).waitFor({ timeout: 15_000 });

    // The comparison: the form's burst on /orders/sync, then on /orders/async, then the study's table.
    await page.fill("input[name=users]", "5");
    await page.fill("input[name=spawnRate]", "5");
    await page.fill("input[name=durationSeconds]", "5");
    await page.getByRole("button", { name: "Run 5 users, 5 s on both" }).click();
    await page.getByText("running the sync half").waitFor();
    await page.getByText("running the async half").waitFor({ timeout: 30_000 });
    await until(
      () => page.getByRole("button", { name: "Run 5 users, 5 s on both" }).isEnabled(),
      Boolean,
      "the run to end",
      60_000,
    );
    const rows = await page.locator("[data-testid=comparison-table] tbody tr").allTextContents();
    expect(rows.some((r) => r.startsWith("Total requests"))).toBe(true);
    // Sync holds each customer for a 1 s payment; async answers at once: the improvement shows as a ratio.
    expect(rows.find((r) => r.startsWith("Avg response time")) ?? "").toMatch(/×/);
    await shot("flash-sale-comparison");
  }, 240_000);

  it("dead-letters a poison message, shows its order and reason, and redrives it", async () => {
    // The comparison's orders paid first, so the purge below concerns only the order placed for it.
    await until(
      () => api<{ queue: { backlog: number } }>("GET", "/ops/state"),
      (st) => st.queue.backlog === 0,
      "no backlog",
      60_000,
    );
    // Nothing consumes while the scene is set: scale to 0 (a confirmation: it stops all processing).
    await goto("/workers");
    await page.fill("#desired-count", "0");
    await page.getByRole("button", { name: "Apply" }).click();
    await page
      .locator("dialog[open]")
      .getByRole("button", { name: /^Scale to 0/ })
      .click();
    await until(
      () => api<{ running: number; tasks: unknown[] }>("GET", "/ops/fleet"),
      (f) => f.tasks.length === 0,
      "no tasks",
      60_000,
    );

    // An order accepted and published; then the queue purged (typed confirmation): the order is dead, not lost.
    const order = await (
      await fetch(`${stack.apiUrl}/orders/async`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ customerId: 7, items: [{ productId: "tv", quantity: 1, price: 499 }] }),
      })
    ).json();
    const orderId = (order as { orderId: string }).orderId;
    // Published (the outbox is empty) and waiting: the store's count, not SQS's approximate one, which
    // the emulator refreshes only when something receives.
    await until(
      () => api<{ queue: { backlog: number; outboxPending: number } }>("GET", "/ops/state"),
      (s) => s.queue.backlog >= 1 && s.queue.outboxPending === 0,
      "the order on the queue",
    );
    await goto("/queue");
    await page.getByRole("button", { name: "Purge the orders queue…" }).click();
    const purge = page.locator("dialog[open]");
    const purgeButton = purge.getByRole("button", { name: "Purge", exact: true });
    expect(await purgeButton.isDisabled()).toBe(true);
    await purge.getByTestId("typed-confirmation").fill("purge");
    await purgeButton.click();
    await page.getByText(/waiting order\(s\) are now dead/).waitFor();
    await until(
      () => fetch(`${stack.apiUrl}/orders/${orderId}`).then((r) => r.json() as Promise<{ status: string }>),
      (o) => o.status === "dead",
      "the purged order to be dead",
    );

    // The poison message: the order's id, but not an order message (acceptedAt is no timestamp).
    const sqs = new SQSClient({
      endpoint: stack.emulatorUrl,
      region: "us-east-1",
      credentials: { accessKeyId: "surge-local", secretAccessKey: "surge-local" },
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.topology.queueUrl,
        MessageBody: JSON.stringify({ orderId, acceptedAt: 0 }),
      }),
    );
    sqs.destroy();
    await api("PUT", "/ops/fleet", { desiredCount: 1 });

    const row = page.locator("[data-testid=dlq-row]", { hasText: orderId });
    await row.waitFor({ timeout: 60_000 });
    expect(await row.getByTestId("dlq-reason").textContent()).toMatch(/not an order message/);
    await shot("queue");
    await row.getByRole("checkbox").check();
    await page.getByRole("button", { name: "Redrive selected (1)" }).click();
    await page.getByText(/Redrove 1 order/).waitFor();
    await until(
      () => fetch(`${stack.apiUrl}/orders/${orderId}`).then((r) => r.json() as Promise<{ status: string }>),
      (o) => o.status === "paid",
      "the redriven order to be paid",
      60_000,
    );
    await until(
      () => page.locator("[data-testid=dlq-row]", { hasText: orderId }).count(),
      (n) => n === 0,
      "the letter gone",
    );
    const reconcile = await api<{ ok: boolean; paidTwice: number }>("GET", "/ops/orders/reconcile");
    expect(reconcile.paidTwice).toBe(0);
  }, 240_000);

  it("routes orders to Lambda and shows cold starts, init durations and REPORT lines", async () => {
    await goto("/lambda");
    await page.getByRole("button", { name: "lambda", exact: true }).click();
    await page
      .locator("dialog[open]")
      .getByRole("button", { name: /Route to lambda/ })
      .click();
    await until(
      () => page.getByTestId("processing-target").textContent(),
      (t) => /^Lambda/.test(t ?? ""),
      "routing to Lambda",
    );
    for (let i = 0; i < 8; i++) {
      await fetch(`${stack.apiUrl}/orders/async`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ customerId: 100 + i, items: [{ productId: "phone", quantity: 1, price: 199 }] }),
      });
    }
    await until(
      () => tileNumber("lambda-invocations"),
      (n) => n >= 8,
      "8 invocations",
      60_000,
    );
    await page.locator("table[aria-label='REPORT lines'] tbody tr").first().waitFor();
    await shot("lambda");
    await page.getByRole("button", { name: "workers", exact: true }).click();
    await page
      .locator("dialog[open]")
      .getByRole("button", { name: /Route to workers/ })
      .click();
    await until(
      () => page.getByTestId("processing-target").textContent(),
      (t) => /^Workers/.test(t ?? ""),
      "routing back",
    );
  }, 240_000);

  it("prices the burst's fleet and filters the audit log", async () => {
    await goto("/cost");
    await page.getByTestId("cost-model").waitFor();
    await page.getByTestId("observed-cost").waitFor({ timeout: 20_000 });
    await shot("cost");

    await goto("/audit");
    await page.getByTestId("audit-row").first().waitFor();
    await page.selectOption("select[name=audit-action]", "fleet.");
    await until(
      async () => {
        const actions = await page.locator("[data-testid=audit-row] td.mono:not(.small)").allTextContents();
        return actions;
      },
      (a) => a.length > 0 && a.every((x) => x.startsWith("fleet.")),
      "only fleet actions",
    );
    await page.selectOption("select[name=audit-action]", "");
    await until(
      () => page.getByTestId("audit-row").count(),
      (n) => n >= 6,
      "every action",
    );
    await shot("audit");

    await goto("/flash-sale");
    await shot("flash-sale-history");
  }, 240_000);

  it("works at phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await goto("/");
    await page.waitForTimeout(1500);
    await shot("overview-phone");
    await goto("/workers");
    await shot("workers-phone");
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1366, height: 900 });
  }, 240_000);

  it("signs out, and the old cookie is refused", async () => {
    const cookie = (await context.cookies()).find((c) => c.name.includes("surge_session"));
    await goto("/");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in\?signed-out=1/);
    await page.getByText("You are signed out").waitFor();
    await page.goto(`${consoleUrl}/workers`);
    await page.waitForURL(/\/sign-in/);
    const replay = await fetch(`${consoleUrl}/api/ops/state`, {
      headers: { cookie: `${cookie?.name}=${cookie?.value}` },
    });
    expect(replay.status).toBe(401);
  }, 240_000);

  it("logged no error in the browser console", () => {
    expect(consoleErrors).toEqual([]);
  });
});
