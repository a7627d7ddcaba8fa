/**
 * The console as laid out in Chromium (issue #14, items 2, 7 and 8): every page at 1366×768 and at
 * phone width (390×844) is photographed, and the run fails on any text-carrying element whose text
 * is cut — by an ancestor (or itself) that hides overflow, by the viewport, or an input whose value
 * or placeholder does not fit — unless it shows in full on hover and focus (a title on a focusable
 * element). Elements that scroll on purpose (tables, the nav at phone width) are left alone. The
 * canvas's own text (marker labels, axis labels) is checked by web/test/chart.test.ts; the
 * screenshots show it. Screenshots go to a temporary directory, or SCREENSHOTS_DIR when set.
 *
 * It also follows an alert's runbook link to its entry, checks its source link uses PROMETHEUS_URL,
 * and sees operator actions (routing, redrive) as timeline events with who made them.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleStack, repoRoot, startConsoleStack } from "./console-stack.js";

const screenshots = process.env.SCREENSHOTS_DIR
  ? resolve(repoRoot, process.env.SCREENSHOTS_DIR)
  : mkdtempSync(join(tmpdir(), "surge-console-layout-"));
const PROMETHEUS_URL = "http://prometheus.example.test:9090";
const PAGES = ["/", "/flash-sale", "/workers", "/queue", "/lambda", "/cost", "/audit", "/runbook"];
const VIEWPORTS = [
  { name: "desktop", width: 1366, height: 768 },
  { name: "phone", width: 390, height: 844 },
];

let c: ConsoleStack;

/** Runs in the page: every text that is cut, as "selector-ish: text (why)". */
function clippedText(): string[] {
  const out: string[] = [];
  const scrolls = (v: string) => v === "auto" || v === "scroll";
  const hides = (v: string) => v === "hidden" || v === "clip";
  const describe = (el: Element) =>
    `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : ""}`;
  const viewportWidth = document.documentElement.clientWidth;
  /** Hover and focus show it in full: a title on a focusable element (or inside one). */
  const revealed = (el: Element) => {
    const holder = el.closest("[title]");
    return (
      holder instanceof HTMLElement &&
      holder.title.length > 0 &&
      (holder.tabIndex >= 0 || holder.closest("a,button,[tabindex]") !== null)
    );
  };
  const invisible = (el: Element) => {
    for (let n: Element | null = el; n; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.display === "none" || s.visibility === "hidden" || n.classList.contains("sr-only")) return true;
      if (n instanceof HTMLDetailsElement && !n.open && el !== n && !n.querySelector("summary")?.contains(el))
        return true;
    }
    return false;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set<Element>();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent?.trim() ?? "";
    const el = node.parentElement;
    if (!text || !el || seen.has(el) || invisible(el) || el.closest("script,style,noscript,[aria-hidden=true]"))
      continue;
    seen.add(el);
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
    if (rects.length === 0) continue;
    const box = {
      left: Math.min(...rects.map((r) => r.left)),
      right: Math.max(...rects.map((r) => r.right)),
      top: Math.min(...rects.map((r) => r.top)),
      bottom: Math.max(...rects.map((r) => r.bottom)),
    };
    let why = "";
    let scrolled = false;
    for (let n: Element | null = el; n && n !== document.documentElement; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (scrolls(s.overflowX) || scrolls(s.overflowY)) {
        scrolled = true;
        break;
      }
      if (hides(s.overflowX) || hides(s.overflowY) || s.textOverflow === "ellipsis") {
        const r = n.getBoundingClientRect();
        const cut =
          (hides(s.overflowX) && (box.left < r.left - 1 || box.right > r.right + 1)) ||
          (hides(s.overflowY) && (box.top < r.top - 1 || box.bottom > r.bottom + 1)) ||
          (n === el &&
            (n.scrollWidth > n.clientWidth + 1 || (hides(s.overflowY) && n.scrollHeight > n.clientHeight + 1)));
        if (cut) {
          why = `cut by ${describe(n)}`;
          break;
        }
      }
    }
    // Wholly off screen is the visually-hidden pattern (the skip link until it is focused), not a cut.
    const offScreen = box.right <= 0;
    if (!why && !scrolled && !offScreen && (box.right > viewportWidth + 1 || box.left < -1))
      why = "outside the viewport";
    if (why && !revealed(el)) out.push(`${describe(el)}: "${text.slice(0, 80)}" (${why})`);
  }
  // Inputs: the value, or the placeholder when empty, must fit the box.
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  for (const input of document.querySelectorAll<HTMLInputElement>(
    "input:not([type=checkbox]):not([type=radio]):not([type=hidden])",
  )) {
    if (!ctx || invisible(input)) continue;
    const shown = input.value || input.placeholder;
    if (!shown) continue;
    const s = getComputedStyle(input);
    ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    const room =
      input.clientWidth -
      Number.parseFloat(s.paddingLeft) -
      Number.parseFloat(s.paddingRight) -
      (input.type === "number" ? 18 : 0);
    if (ctx.measureText(shown).width > room + 1 && !revealed(input)) {
      out.push(
        `input[name=${input.name}]: "${shown}" (${Math.round(ctx.measureText(shown).width)} px in ${Math.round(room)} px)`,
      );
    }
  }
  return out;
}

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  // The console server inherits the environment: its alerts' source links use this.
  process.env.PROMETHEUS_URL = PROMETHEUS_URL;
  c = await startConsoleStack();
  // Something on every page: a short burst, two operator actions, an alert quoting a value.
  await c.api("POST", "/ops/bursts", { mode: "async", ratePerSecond: 5, durationSeconds: 3 });
  await c.api("PUT", "/ops/processing", { target: "lambda" });
  await c.api("PUT", "/ops/processing", { target: "workers" });
  await c.api("POST", "/ops/dlq/redrive", {});
  const res = await fetch(`${c.stack.apiUrl}/ops/alerts/api/v2/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${c.token}` },
    body: JSON.stringify([
      {
        labels: { alertname: "SurgeDeadLetters", severity: "warning" },
        annotations: {
          summary: "24 order(s) in the dead-letter queue",
          runbook: "docs/runbook.md#surgedeadletters",
        },
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 10 * 60_000).toISOString(),
        generatorURL: "http://build-box-7:9090/graph?g0.expr=sum%28surge_queue_messages%29&g0.tab=1",
      },
    ]),
  });
  expect(res.status).toBe(200);
}, 900_000);

afterAll(async () => {
  delete process.env.PROMETHEUS_URL;
  await c?.close();
}, 120_000);

describe("console layout, in Chromium", () => {
  it("alerts: the runbook link opens the alert's entry, source uses PROMETHEUS_URL, the live value is beside the quoted one", async () => {
    await c.goto("/");
    const alert = c.page.getByTestId("alert-firing").filter({ hasText: "SurgeDeadLetters" });
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.getByTestId("alert-source").getAttribute("href")).toBe(
      `${PROMETHEUS_URL}/graph?g0.expr=sum%28surge_queue_messages%29&g0.tab=1`,
    );
    expect(await alert.getByTestId("alert-live").textContent()).toMatch(/^now \d+ in the DLQ$/);
    expect(await alert.getByTestId("alert-measured").textContent()).toMatch(/as of \d\d:\d\d:\d\d/);
    await alert.getByTestId("alert-runbook").click();
    await c.page.waitForURL(`${c.consoleUrl}/runbook#surgedeadletters`);
    const heading = c.page.locator("h2#surgedeadletters");
    expect(await heading.textContent()).toBe("SurgeDeadLetters");
    expect(await heading.isVisible()).toBe(true);
    expect(await c.page.getByText("This page could not be found").count()).toBe(0);
  }, 120_000);

  it("operator actions are timeline events with who made them", async () => {
    await c.goto("/");
    const events = c.page.getByRole("region", { name: "Events on the timeline" });
    const who = (await c.api<{ label: string }>("GET", "/ops/whoami")).label;
    for (const label of ["route → lambda", "route → workers", "redrive 0"]) {
      const item = events.locator("li").filter({ hasText: label });
      await item.first().waitFor({ timeout: 20_000 });
      expect(await item.first().textContent()).toContain(`by ${who}`);
    }
  }, 120_000);

  for (const viewport of VIEWPORTS) {
    it(`nothing that carries meaning is cut at ${viewport.width}×${viewport.height}`, async () => {
      await c.page.setViewportSize({ width: viewport.width, height: viewport.height });
      const problems: string[] = [];
      for (const path of PAGES) {
        await c.goto(path);
        // Live figures and the chart's first frame.
        await c.page.waitForTimeout(1500);
        const name = `${viewport.name}-${path === "/" ? "overview" : path.slice(1)}`;
        await c.page.evaluate(() => window.scrollTo(0, 0));
        await c.page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
        for (const p of await c.page.evaluate(clippedText)) problems.push(`${path}: ${p}`);
      }
      expect(problems).toEqual([]);
    }, 180_000);
  }

  it("no browser console error on the way", () => {
    expect(c.consoleErrors).toEqual([]);
  });
});
