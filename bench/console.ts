/**
 * Console benchmark (issue 7): the production build of the ops console
 * (Next's standalone server, as `npm start` and the image run it) in Debian's
 * Chromium, against a stand-in API that streams synthetic snapshots — so what
 * is measured is the console, not the pipeline behind it.
 *
 *   node --import tsx bench/console.ts [--loads 5] [--ticks 20] [--switches 40]
 *
 * Three budgets, each beside a baseline measured in the same run:
 *   - JavaScript the Overview loads, gzip: < 250 KB (baseline: the sign-in page — Next and React alone).
 *   - First load of the Overview on localhost: < 1 s to the load event, and to live numbers on screen
 *     (baseline: the sign-in page's load).
 *   - A chart update with an hour of 1 s data (3,600 points × 10 series, the 1 h range): its draw must fit
 *     in a 60 Hz frame (16.7 ms) — no visible jank (baseline: the same chart with one minute of data).
 *     Measured in the real page: each draw is a User Timing measure; updates are the live 1 s ticks
 *     (a point appended, the chart redrawn) and range switches (5 min ↔ 1 h, a full redraw each).
 *     Long tasks (> 50 ms) on the page's main thread are counted over the same period.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { freePort } from "@surge/testing";
import { CHROMIUM } from "@surge/testing/chromium";
import { type Browser, chromium, type Page } from "playwright-core";

const { values } = parseArgs({
  options: {
    loads: { type: "string", default: "5" },
    ticks: { type: "string", default: "20" },
    switches: { type: "string", default: "40" },
  },
});
const LOADS = Number(values.loads);
const TICKS = Number(values.ticks);
const SWITCHES = Number(values.switches);
const repoRoot = resolve(import.meta.dirname, "..");
const serverScript = join(repoRoot, "web/.next/standalone/web/server.js");
const TOKEN = `bench-${randomBytes(12).toString("hex")}`;
const BUDGET = { bundleGzipKb: 250, firstLoadMs: 1000, frameMs: 1000 / 60 };

if (!existsSync(serverScript)) {
  console.log("web/.next/standalone is missing: building the console (npx turbo run build --filter=@surge/web)…");
  execFileSync("npx", ["turbo", "run", "build", "--filter=@surge/web", "--output-logs=errors-only"], {
    cwd: repoRoot,
    stdio: "inherit",
  });
}

/** A snapshot as /ops/state shapes it, with figures that move like a flash sale's. */
function snapshot(second: number, atMs: number) {
  const wave = (period: number, amp: number) => amp * (1 + Math.sin((second / period) * Math.PI * 2));
  const queued = Math.round(wave(600, 800) + wave(37, 40));
  return {
    at: new Date(atMs).toISOString(),
    queue: {
      visible: queued,
      inFlight: Math.round(wave(120, 20)),
      delayed: 0,
      dlq: second > 1800 ? 3 : 0,
      oldestAgeSeconds: wave(300, 90),
      backlog: queued,
      orders: { queued, processing: 0, paid: second * 20, failed: 0, dead: 0 },
      outboxPending: 0,
    },
    latency: {
      windowSeconds: 60,
      samples: 100,
      endToEndP50Seconds: 3 + wave(200, 2),
      endToEndP99Seconds: 6 + wave(200, 5),
      endToEndMaxSeconds: 12,
    },
    fleet: {
      desiredCount: 4 + Math.round(wave(900, 8)),
      running: 4 + Math.round(wave(900, 8)),
      pending: 0,
      stopping: 0,
      concurrency: 5,
      restarts: 0,
      tasks: [],
      controlledBy: "autoscaler",
      maxTasks: 50,
    },
    alerts: { firing: [], resolved: [] },
    bursts: {
      active: null,
      last: null,
      bounds: {
        maxUsers: 2000,
        maxRatePerSecond: 5000,
        maxDurationSeconds: 600,
        maxInFlight: 2000,
        maxTimeoutMs: 300000,
        maxWaitMs: 60000,
      },
    },
  };
}

/**
 * The stand-in API: knows the token, and on /ops/stream first replays `historySeconds`
 * of past snapshots (one per second of past time) and then sends one a second — so
 * the console's hub holds that much history the moment a browser arrives.
 */
async function standInApi(historySeconds: number): Promise<{ url: string; server: Server; streamed: Promise<void> }> {
  let onStreamed: () => void = () => {};
  const streamed = new Promise<void>((r) => {
    onStreamed = r;
  });
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"bad token"}');
      return;
    }
    const json = (body: unknown) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/ops/whoami") return json({ label: "operator", role: "operator" });
    if (req.url?.startsWith("/ops/scaling-activities")) return json({ activities: [] });
    if (req.url?.startsWith("/ops/bursts")) return json({ bursts: [] });
    if (req.url === "/ops/stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      streams.add(res);
      const start = Date.now() - historySeconds * 1000;
      for (let s = 0; s < historySeconds; s++)
        res.write(`event: state\ndata: ${JSON.stringify(snapshot(s, start + s * 1000))}\n\n`);
      onStreamed();
      let s = historySeconds;
      const timer = setInterval(() => {
        res.write(`event: state\ndata: ${JSON.stringify(snapshot(s++, Date.now()))}\n\n`);
      }, 1000);
      res.on("close", () => {
        clearInterval(timer);
        streams.delete(res);
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of streams) s.destroy();
    return close(cb);
  }) as typeof server.close;
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, streamed };
}

interface Console {
  url: string;
  child: ChildProcess;
  cookie: { name: string; value: string };
}

async function startConsole(apiUrl: string): Promise<Console> {
  const port = await freePort();
  const child = spawn(process.execPath, [serverScript], {
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      SURGE_API_URL: apiUrl,
      SURGE_OPS_TOKEN: TOKEN,
      SESSION_SECRET: randomBytes(32).toString("hex"),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/sign-in`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 200) throw new Error("the console did not start");
    await sleep(100);
  }
  const res = await fetch(`${url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ token: TOKEN }),
  });
  const set = res.headers.get("set-cookie") ?? "";
  const [pair] = set.split(";");
  const [name, value] = (pair ?? "").split("=");
  if (!res.ok || !name || !value) throw new Error(`sign-in failed: ${res.status}`);
  return { url, child, cookie: { name, value } };
}

async function stopConsole(c: Console) {
  c.child.kill("SIGTERM");
  await new Promise((r) => c.child.once("exit", r));
}

/** A fresh browser context (cold cache), signed in unless asked not to be (the sign-in page redirects a signed-in visitor). */
async function newPage(browser: Browser, c: Console, signedIn = true): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  if (signedIn) await context.addCookies([{ name: c.cookie.name, value: c.cookie.value, url: c.url }]);
  return context.newPage();
}

/** JavaScript a page loads, as gzip bytes (each file compressed the way the server sends it). */
async function pageJs(
  browser: Browser,
  c: Console,
  path: string,
  signedIn: boolean,
): Promise<{ files: number; gzipBytes: number; rawBytes: number }> {
  const page = await newPage(browser, c, signedIn);
  const urls = new Set<string>();
  page.on("response", (r) => {
    if (r.request().resourceType() === "script") urls.add(r.url());
  });
  await page.goto(`${c.url}${path}`, { waitUntil: "networkidle" });
  let gzipBytes = 0;
  let rawBytes = 0;
  for (const url of urls) {
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    rawBytes += body.length;
    gzipBytes += gzipSync(body, { level: 6 }).length;
  }
  await page.context().close();
  return { files: urls.size, gzipBytes, rawBytes };
}

/**
 * Cold loads (a fresh browser context each): to the load event, to the first live figures on screen
 * (the server renders the hub's latest snapshot into the page), and to the chart holding `chartPoints`.
 */
async function firstLoads(browser: Browser, c: Console, path: string, liveSelector?: string, chartPoints?: number) {
  const loadMs: number[] = [];
  const liveMs: number[] = [];
  const chartMs: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const page = await newPage(browser, c, liveSelector !== undefined);
    const started = Date.now();
    await page.goto(`${c.url}${path}`, { waitUntil: "load" });
    const nav = await page.evaluate(() => {
      const [e] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
      return e ? e.loadEventEnd - e.startTime : Number.NaN;
    });
    loadMs.push(nav);
    if (liveSelector) {
      liveMs.push(
        await page.evaluate((sel) => {
          // When the live figures were first on screen: at first paint if the server rendered them.
          const paint = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN;
          return document.querySelector(sel) ? paint : Number.NaN;
        }, liveSelector),
      );
    }
    if (chartPoints) {
      await page.waitForFunction(
        (n) => Number(document.querySelector("[data-testid=timeline-canvas]")?.getAttribute("data-points")) >= n,
        chartPoints,
      );
      chartMs.push(Date.now() - started);
    }
    await page.context().close();
  }
  return { loadMs: median(loadMs), liveMs: median(liveMs), chartMs: median(chartMs) };
}

/** Chart draws with the given history on the 1 h range: live ticks, then range switches. */
async function chartFrames(browser: Browser, c: Console, expectPoints: number) {
  const page = await newPage(browser, c);
  await page.goto(`${c.url}/`, { waitUntil: "load" });
  await page.waitForFunction(
    (n) => Number(document.querySelector("[data-testid=timeline-canvas]")?.getAttribute("data-points")) >= n,
    expectPoints,
  );
  await page.getByRole("button", { name: "1 h", exact: true }).click();
  await page.evaluate(() => {
    performance.clearMeasures("surge:chart-draw");
    const w = window as unknown as { __long: number[]; __loaf: string[] };
    const t0 = performance.now();
    w.__long = [];
    w.__loaf = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__long.push(e.duration);
      for (const e of list.getEntries())
        w.__loaf.push(`long task: ${Math.round(e.duration)} ms, ${Math.round(e.startTime - t0)} ms in`);
    }).observe({ type: "longtask", buffered: false });
    // Long animation frames, with the scripts that made them long: what to fix when a long task shows up.
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as Array<{
        duration: number;
        blockingDuration: number;
        scripts: Array<{ invoker: string; sourceFunctionName: string; duration: number }>;
      }>) {
        if (e.duration <= 50) continue;
        const top = [...e.scripts].sort((a, b) => b.duration - a.duration)[0];
        w.__loaf.push(
          `${Math.round(e.duration)} ms frame: ${top ? `${top.invoker} ${top.sourceFunctionName} ${Math.round(top.duration)} ms` : "no script"}`,
        );
      }
    }).observe({ type: "long-animation-frame", buffered: false });
  });
  // Live updates: one tick a second appends a point and redraws.
  await sleep(TICKS * 1000);
  // Range switches: each redraws the whole chart.
  for (let i = 0; i < SWITCHES; i++) {
    await page.getByRole("button", { name: i % 2 === 0 ? "5 min" : "1 h", exact: true }).click();
    await sleep(50);
  }
  await sleep(300);
  const result = await page.evaluate(() => ({
    draws: performance.getEntriesByName("surge:chart-draw").map((e) => e.duration),
    longTasks: (window as unknown as { __long: number[] }).__long,
    longFrames: (window as unknown as { __loaf: string[] }).__loaf,
    points: Number(document.querySelector("[data-testid=timeline-canvas]")?.getAttribute("data-points")),
  }));
  await page.context().close();
  return result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] ?? Number.NaN);
}
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN);
}
const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "—");

async function phase(browser: Browser, historySeconds: number) {
  const api = await standInApi(historySeconds);
  const c = await startConsole(api.url);
  await api.streamed;
  // The hub has ingested the replay once the page shows that many points; chartFrames waits for it.
  try {
    return { c, api, frames: await chartFrames(browser, c, historySeconds) };
  } catch (error) {
    await stopConsole(c);
    await new Promise((r) => api.server.close(r));
    throw error;
  }
}

const browser = await chromium.launch(CHROMIUM);
try {
  // Baseline phase: one minute of history.
  const minute = await phase(browser, 60);
  await stopConsole(minute.c);
  await new Promise((r) => minute.api.server.close(r));

  // The hour: bundle, loads and frames on a console holding 3,600 points.
  const hour = await phase(browser, 3600);
  const signInJs = await pageJs(browser, hour.c, "/sign-in", false);
  const overviewJs = await pageJs(browser, hour.c, "/", true);
  const signInLoad = await firstLoads(browser, hour.c, "/sign-in");
  const overviewLoad = await firstLoads(browser, hour.c, "/", "[data-live-ready=true]", 3600);
  await stopConsole(hour.c);
  await new Promise((r) => hour.api.server.close(r));

  const kb = (b: number) => b / 1024;
  const drawP95 = percentile(hour.frames.draws, 0.95);
  const rows: Array<[string, string, string, string, string, boolean]> = [
    [
      "Overview JS, gzip (KB)",
      f(kb(signInJs.gzipBytes)),
      f(kb(overviewJs.gzipBytes)),
      f(overviewJs.gzipBytes / signInJs.gzipBytes, 2),
      `< ${BUDGET.bundleGzipKb}`,
      kb(overviewJs.gzipBytes) < BUDGET.bundleGzipKb,
    ],
    [
      "First load to load event (ms, median)",
      f(signInLoad.loadMs, 0),
      f(overviewLoad.loadMs, 0),
      f(overviewLoad.loadMs / signInLoad.loadMs, 2),
      `< ${BUDGET.firstLoadMs}`,
      overviewLoad.loadMs < BUDGET.firstLoadMs,
    ],
    [
      "First load to live figures on screen (ms, median)",
      "—",
      f(overviewLoad.liveMs, 0),
      "—",
      `< ${BUDGET.firstLoadMs}`,
      overviewLoad.liveMs < BUDGET.firstLoadMs,
    ],
    ["First load to the hour drawn (ms, median)", "—", f(overviewLoad.chartMs, 0), "—", "—", true],
    [
      "Chart draw, p50 (ms)",
      f(percentile(minute.frames.draws, 0.5), 2),
      f(percentile(hour.frames.draws, 0.5), 2),
      f(percentile(hour.frames.draws, 0.5) / percentile(minute.frames.draws, 0.5), 2),
      `< ${f(BUDGET.frameMs)}`,
      percentile(hour.frames.draws, 0.5) < BUDGET.frameMs,
    ],
    [
      "Chart draw, p95 (ms)",
      f(percentile(minute.frames.draws, 0.95), 2),
      f(drawP95, 2),
      f(drawP95 / percentile(minute.frames.draws, 0.95), 2),
      `< ${f(BUDGET.frameMs)}`,
      drawP95 < BUDGET.frameMs,
    ],
    [
      "Chart draw, max (ms)",
      f(Math.max(...minute.frames.draws), 2),
      f(Math.max(...hour.frames.draws), 2),
      f(Math.max(...hour.frames.draws) / Math.max(...minute.frames.draws), 2),
      "—",
      true,
    ],
    [
      "Long tasks (> 50 ms) during updates",
      String(minute.frames.longTasks.length),
      String(hour.frames.longTasks.length),
      "—",
      "0",
      hour.frames.longTasks.length === 0,
    ],
  ];
  console.log(
    `\nConsole benchmark — baseline: sign-in page (bundle, load) and a chart holding ${minute.frames.points} points; ` +
      `measured: the Overview, its chart holding ${hour.frames.points} points × 10 series on the 1 h range ` +
      `(${hour.frames.draws.length} draws: ${TICKS} s of live ticks + ${SWITCHES} range switches). ${LOADS} cold loads each.\n`,
  );
  const header = ["metric", "baseline", "measured", "ratio", "budget", "ok"];
  const table = [header, ...rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[5] ? "yes" : "NO"])];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length)));
  for (const [i, r] of table.entries()) {
    console.log(r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j] ?? 0) : cell.padStart(widths[j] ?? 0))).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
  for (const line of hour.frames.longFrames.slice(0, 5)) console.log(`with an hour of data: ${line}`);
  console.log(
    `\nOverview: ${overviewJs.files} scripts, ${f(kb(overviewJs.rawBytes))} KB uncompressed; sign-in: ${signInJs.files} scripts.`,
  );
  if (rows.some((r) => !r[5])) process.exitCode = 1;
} finally {
  await browser.close();
}
