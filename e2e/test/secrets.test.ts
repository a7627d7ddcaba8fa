/**
 * Operator tokens stay secret through a real run of the local stack (`npm start`'s startStack with
 * the built API, worker and console): not in any log under DATA_DIR/logs — debug level, wrong and
 * near-miss tokens included — not in anything the console sends a browser, not in the built client
 * bundle, not in the console's session cookie. The console also refuses cross-site changes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Stack, startStack } from "@surge/local/stack";
import { freePort, tempDir, validOrder, waitFor } from "@surge/testing";
import { CHROMIUM } from "@surge/testing/chromium";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");
const bundles = ["api/dist/main.js", "worker/dist/main.js", "web/.next/standalone/web/server.js"];

/** Random per run, so a match can only come from this run's leak. */
const canary = (name: string) => `${name}-${crypto.randomUUID().replaceAll("-", "")}`;
const OPERATOR = canary("op");
const SECOND = canary("second");
const VIEWER = canary("viewer");
const TOKENS = { OPERATOR, SECOND, VIEWER };

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Every form a token could leak in: as given, base64 and base64url encoded, and the middle of it
 * (a log of a near-miss token or a truncated one still gives most of the secret away).
 */
function leakForms(token: string): string[] {
  return [
    token,
    Buffer.from(token).toString("base64").replace(/=+$/, ""),
    Buffer.from(token).toString("base64url"),
    token.slice(8, 28),
  ];
}

function expectNoToken(text: string, where: string): void {
  for (const [name, token] of Object.entries(TOKENS)) {
    for (const form of leakForms(token)) expect.soft(text.includes(form), `${name} token in ${where}`).toBe(false);
  }
}

describe("operator tokens never leak, and the console refuses cross-site changes (local stack)", () => {
  let stack: Stack;
  let data: ReturnType<typeof tempDir>;
  let consoleUrl: string;

  beforeAll(async () => {
    for (const bundle of bundles) {
      if (!existsSync(join(repoRoot, bundle)))
        throw new Error(`${bundle} is missing: run \`npx turbo run build\` first`);
    }
    data = tempDir("surge-secrets-");
    const [apiPort, webPort] = [await freePort(), await freePort()];
    stack = await startStack({
      repoRoot,
      dataDir: data.path,
      emulatorPort: 0,
      apiPort,
      opsToken: OPERATOR,
      workerTasks: 1,
      workerConcurrency: 5,
      maxWorkerTasks: 4,
      visibilityTimeoutSeconds: 10,
      maxReceiveCount: 3,
      names: { topic: "secrets-orders", queue: "secrets-orders", dlq: "secrets-orders-dlq" },
      env: {
        LOG_LEVEL: "debug",
        PAYMENT_DURATION_MS: "50",
        OPS_TOKENS: `second:${SECOND}`,
        OPS_READONLY_TOKENS: `viewer:${VIEWER}`,
      },
      console: { port: webPort },
    });
    consoleUrl = stack.console?.url ?? "";
    expect(consoleUrl, stack.console?.notRunning).not.toBe("");
    await waitFor(async () => (await fetch(`${consoleUrl}/sign-in`)).ok, { what: "the console", timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await stack?.close();
    data?.remove();
  });

  it("through orders, ops calls with good, wrong and near-miss tokens, and console sign-ins", async () => {
    const api = stack.apiUrl;
    // Orders, paid by the worker task (its log is checked too).
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${api}/orders/async`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(validOrder()),
      });
      ids.push(((await res.json()) as { orderId: string }).orderId);
    }
    await waitFor(
      async () => {
        for (const id of ids)
          if (((await (await fetch(`${api}/orders/${id}`)).json()) as { status: string }).status !== "paid")
            return false;
        return true;
      },
      { what: "5 orders paid", timeoutMs: 30_000 },
    );

    const ops = (path: string, token: string, init: RequestInit = {}) =>
      fetch(`${api}/ops${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
    expect((await ops("/whoami", SECOND)).status).toBe(200);
    expect((await ops("/whoami", VIEWER)).status).toBe(200);
    const viewerWrite = await ops("/fleet", VIEWER, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ concurrency: 6 }),
    });
    expect(viewerWrite.status).toBe(403);
    const operatorWrite = await ops("/fleet", SECOND, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ concurrency: 6 }),
    });
    expect(operatorWrite.status).toBe(200);
    for (const wrong of [`${OPERATOR}x`, OPERATOR.slice(0, -1), `${VIEWER.slice(0, -2)}zz`]) {
      expect((await ops("/state", wrong)).status).toBe(401);
    }
    // The answers themselves name labels, never tokens.
    for (const path of ["/state", "/audit", "/whoami", "/fleet", "/orders/reconcile"]) {
      expectNoToken(await (await ops(path, OPERATOR)).text(), `GET /ops${path}`);
    }
    expectNoToken(await (await fetch(`${api}/metrics`)).text(), "/metrics");

    // Console: a sign-in keeps the token only sealed in an httpOnly cookie.
    const signIn = async (token: string) =>
      fetch(`${consoleUrl}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: consoleUrl },
        body: JSON.stringify({ token }),
      });
    expect((await signIn(`${OPERATOR}x`)).status).toBe(401);
    const signedIn = await signIn(OPERATOR);
    expect(signedIn.status).toBe(200);
    const setCookie = signedIn.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/i);
    expectNoToken(setCookie, "the session cookie");
    const cookie = setCookie.split(";")[0] ?? "";

    // Everything a browser loads from the console: pages (with their RSC payloads) and every script and style.
    const assets = new Set<string>();
    for (const page of ["/", "/workers", "/queue", "/flash-sale", "/lambda", "/cost", "/audit", "/sign-in"]) {
      const res = await fetch(`${consoleUrl}${page}`, { headers: { cookie } });
      const html = await res.text();
      expect.soft(res.status, page).toBeLessThan(500);
      expectNoToken(html, `the console page ${page}`);
      expect.soft(res.headers.get("content-security-policy"), page).toMatch(/frame-ancestors 'none'/);
      expect.soft(res.headers.get("x-frame-options"), page).toBe("DENY");
      expect.soft(res.headers.get("x-content-type-options"), page).toBe("nosniff");
      for (const m of html.matchAll(/(?:src|href)="(\/_next\/[^"]+)"/g)) if (m[1]) assets.add(m[1]);
    }
    expect(assets.size).toBeGreaterThan(0);
    for (const asset of assets) expectNoToken(await (await fetch(`${consoleUrl}${asset}`)).text(), asset);
    // The console's own stream of the state, as a browser reads it.
    const stream = await fetch(`${consoleUrl}/api/stream`, { headers: { cookie } });
    const reader = stream.body?.getReader();
    const first = reader ? new TextDecoder().decode((await reader.read()).value) : "";
    await reader?.cancel();
    expectNoToken(first, "the console's event stream");

    // Cross-site changes through the console are refused, signed in or not.
    const change = (headers: Record<string, string>) =>
      fetch(`${consoleUrl}/api/ops/fleet`, {
        method: "PUT",
        headers: { "content-type": "application/json", cookie, ...headers },
        body: JSON.stringify({ desiredCount: 3 }),
      });
    const crossSite: Array<Record<string, string>> = [
      { origin: "http://evil.example" },
      { origin: consoleUrl, "sec-fetch-site": "cross-site" },
      { referer: "http://evil.example/page" },
      {},
      { origin: consoleUrl }, // same origin, but without the CSRF header
    ];
    for (const headers of crossSite) {
      const res = await change(headers);
      expect.soft(res.status, JSON.stringify(headers)).toBe(403);
    }
    expect((await stack.supervisor.snapshot()).desiredCount).toBe(1);
  });

  it("in a real browser: the console works under its CSP (no violation, no console error), and no token reaches the page", async () => {
    const browser = await chromium.launch(CHROMIUM);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(`${page.url()}: uncaught ${e.message}`));
      // Violations are reported to the page as events: collect them where the test can read them.
      // Browser code as text: this package is type-checked without the DOM library.
      await page.addInitScript({
        content: `window.cspViolations = [];
          document.addEventListener("securitypolicyviolation", (e) =>
            window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
      });
      await page.goto(`${consoleUrl}/sign-in`);
      await page.fill("input[name=token]", VIEWER);
      await page.click("button[type=submit]");
      await page.waitForURL(`${consoleUrl}/`);
      await page.locator(".dot.live").waitFor({ timeout: 30_000 });
      for (const path of ["/", "/workers", "/queue", "/flash-sale", "/lambda", "/cost", "/audit"]) {
        await page.goto(`${consoleUrl}${path}`);
        await page.waitForLoadState("networkidle").catch(() => {});
        const seen = (await page.evaluate(`({
          violations: window.cspViolations,
          html: document.documentElement.outerHTML,
          storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
          cookies: document.cookie,
        })`)) as { violations: string[]; html: string; storage: string; cookies: string };
        expect.soft(seen.violations, path).toEqual([]);
        expectNoToken(seen.html + seen.storage + seen.cookies, `the page ${path} in the browser`);
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("the built client bundle carries no token and reads no token variable", () => {
    const files = [
      ...filesUnder(join(repoRoot, "web/.next/static")),
      ...filesUnder(join(repoRoot, "web/.next/standalone/web/.next/static")),
    ].filter((f) => /\.(js|css|html|json|txt)$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    // Tokens set where the build ran (CI, a developer's shell) would be inlined by a client-side process.env read.
    const buildTimeTokens = [process.env.OPS_TOKEN, process.env.SURGE_OPS_TOKEN, process.env.SESSION_SECRET].filter(
      (t): t is string => typeof t === "string" && t.length >= 8,
    );
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      expectNoToken(text, file);
      for (const token of buildTimeTokens)
        expect.soft(text.includes(token), `a build-time token in ${file}`).toBe(false);
      expect.soft(text, file).not.toMatch(/\b(SURGE_OPS_TOKEN|OPS_TOKEN|OPS_TOKENS|SESSION_SECRET)\b/);
    }
  });

  it("no log under DATA_DIR/logs holds a token, after the run and the stop", async () => {
    await stack.close();
    const logs = filesUnder(join(data.path, "logs"));
    expect(logs.map((f) => f.split("/").pop())).toEqual(expect.arrayContaining(["api.log", "console.log"]));
    let bytes = 0;
    for (const file of logs) {
      const text = readFileSync(file, "utf8");
      bytes += text.length;
      expectNoToken(text, file);
    }
    // Debug logging did run: the check read real output.
    expect(bytes).toBeGreaterThan(1000);
  });
});
