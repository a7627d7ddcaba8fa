/**
 * The console's figures as an on-call engineer sees them in Chromium (issue #14, items 3–6, 10,
 * 11): orders routed to Lambda count as waiting, the drain ETA says the queue grows instead of a
 * finite time, the Lambda page does not contradict itself, the Cost page says which platform is
 * cheaper and does not price the fleet per order for a burst Lambda paid alone, and the Workers
 * page says who controls the count, asks for a whole number and confirms a ×3 jump.
 *
 * Traffic goes to the stack's own API on 127.0.0.1 only, a few dozen orders at most.
 */
import { STUDY_VOLUME_TABLES } from "@surge/core/cost";
import { validOrder } from "@surge/testing";
import { describe, expect, it } from "vitest";
import { type ConsoleStack, consoleStackPerFile, until } from "./console-stack.js";

let c: ConsoleStack;

/** A tile's value (or another part of an element; "" for the element itself), trimmed. */
const text = async (testId: string, part = ".value") => {
  const element = c.page.getByTestId(testId);
  return ((await (part ? element.locator(part) : element).textContent()) ?? "").trim();
};
const number = async (testId: string) => Number((await text(testId)).replace(/[^0-9.]/g, ""));

/** Places `n` async orders, `perSecond` at most. */
async function placeOrders(n: number, perSecond: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${c.stack.apiUrl}/orders/async`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(validOrder()),
    });
    expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
}

const backlog = async () => (await c.api<{ queue: { backlog: number } }>("GET", "/ops/state")).queue.backlog;

// One Lambda environment at most: orders routed to it wait, and its throttles show.
consoleStackPerFile(
  (stack) => {
    c = stack;
  },
  {
    overrides: {
      lambda: { controlPort: 0, reservedConcurrency: 1, memoryMb: 512, timeoutSeconds: 30, idleTimeoutSeconds: 300 },
    },
  },
);

describe("console figures, in Chromium", () => {
  it("Lambda before any invocation: nothing concurrent, unknown init is —, and the value fits its tile", async () => {
    await c.goto("/lambda");
    await c.page.getByTestId("lambda-init").waitFor();
    expect(await text("lambda-concurrent")).toBe("0");
    expect(await text("lambda-concurrent", ".hint")).toMatch(/^no invocation yet/);
    expect(await text("lambda-init")).toBe("—");
    expect(await c.page.getByText("0 ms / 0 ms").count()).toBe(0);
    const spills = await c.page
      .getByTestId("lambda-init")
      .locator(".value")
      .evaluate((el) => el.scrollWidth > el.clientWidth);
    expect(spills).toBe(false);
  }, 120_000);

  it("routed to Lambda, the backlog shows on the Overview and the Lambda page, and nothing reads as lost", async () => {
    await c.api("PUT", "/ops/processing", { target: "lambda" });
    await placeOrders(20, 50);
    await c.goto("/");
    // SQS holds none of these: the Waiting tile counts the store's orders on every platform.
    const waiting = await until(
      () => number("tile-waiting"),
      (n) => n > 0,
      "orders waiting for Lambda",
    );
    expect(waiting).toBeGreaterThan(0);
    expect(await text("tile-waiting", ".hint")).toMatch(/for Lambda/);
    expect(await text("tile-drain")).not.toBe("0 s");

    await c.goto("/lambda");
    await until(
      () => number("lambda-waiting"),
      (n) => n > 0,
      "the Lambda page's backlog",
      15_000,
    );
    expect(await c.page.getByTestId("lambda-loss-note").textContent()).toMatch(/none lost|no dead orders/);

    await until(backlog, (n) => n === 0, "Lambda to pay every order", 90_000);
    await c.page.reload();
    await c.page.getByTestId("cold-warm-axis").waitFor({ timeout: 20_000 });
    const labels = await c.page.getByTestId("cold-warm-axis").locator("span").allTextContents();
    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (const l of labels) expect(l).toMatch(/^\d\d:\d\d$/);
    // The cold-start text and the tile count the same cold starts.
    const cold = await number("lambda-cold");
    expect(cold).toBeGreaterThan(0);
    expect(await c.page.getByText("No cold starts").count()).toBe(0);
    expect(await text("lambda-init")).toMatch(/ms|s$/);
  }, 240_000);

  it("Cost: says which platform is cheaper and by how much; no fleet cost per order for a Lambda-only burst", async () => {
    const burst = await c.api<{ id: string }>("POST", "/ops/bursts", {
      mode: "async",
      ratePerSecond: 3,
      durationSeconds: 2,
    });
    await until(
      () => c.api<{ status: string }>("GET", `/ops/bursts/${burst.id}`),
      (b) => b.status !== "running",
      "the burst to end",
    );
    await until(backlog, (n) => n === 0, "Lambda to pay the burst", 60_000);

    await c.goto("/cost");
    await until(
      () => c.page.getByTestId("cost-row").count(),
      (n) => n === STUDY_VOLUME_TABLES.realWorld.rows.length,
      "the volume table",
      20_000,
    );
    const cheaperCells = await c.page.locator("[data-testid=cost-row] td:nth-child(4)").allTextContents();
    for (const cell of cheaperCells) expect(cell).toMatch(/^(Lambda|Fargate), \$[\d,.]+ less$|^equal$/);
    expect(await c.page.locator("table").filter({ hasText: "Orders/month" }).textContent()).not.toMatch(/%/);
    expect(await text("cost-cheaper", ".hint")).toMatch(/^(Lambda|Fargate), \$[\d,.]+ less at /);

    await c.page.getByTestId("observed-fargate-per-order").waitFor({ timeout: 20_000 });
    expect(await text("observed-fargate-per-order")).toBe("—");
    expect(await text("observed-fargate-per-order", ".hint")).toMatch(/the workers paid none/);
  }, 240_000);

  it("the drain ETA says the queue grows, with the net rate, while arrivals outrun the workers", async () => {
    await c.api("PUT", "/ops/processing", { target: "workers" });
    await c.goto("/");
    // One task pays 5/s; 25/s arrive for 3 s.
    const placing = placeOrders(75, 25);
    const drain = await until(
      () => text("tile-drain"),
      (t) => /^growing \+[\d.]+\/s$/.test(t),
      "'growing'",
      20_000,
    );
    expect(drain).toMatch(/^growing \+/);
    await placing;
    await until(backlog, (n) => n === 0, "the workers to drain", 90_000);
    await until(
      () => text("tile-drain"),
      (t) => t === "0 s",
      "drain 0 s once empty",
      20_000,
    );
  }, 240_000);

  it("Workers: the banner says who controls the count; the planner follows the live fleet; whole numbers; ×3 asks", async () => {
    await c.goto("/workers");
    expect(await c.page.getByTestId("control-banner").textContent()).toMatch(/^An operator sets the desired count/);
    expect(await c.page.getByTestId("scale-confirm-rule").textContent()).toMatch(
      /^Asks to confirm a change to 0 tasks, by 10 or more tasks at once, or to 3× the current count or more\.$/,
    );
    // An idle stack: the planner does not say the arrivals outrun the fleet.
    const planner = c.page.locator("input[name=planner-tasks]");
    expect(await planner.inputValue()).toBe("1");
    await until(
      () => text("planner-drain", ""),
      (t) => t === "0 s",
      "an idle planner",
      15_000,
    );
    expect(await c.page.getByText("arrivals outrun the fleet").count()).toBe(0);

    // 1 → 4 is more than ×3: a confirmation; Cancel leaves the fleet alone.
    await c.page.fill("#desired-count", "4");
    await c.page.getByRole("button", { name: "Apply" }).click();
    const dialog = c.page.locator("dialog[open]");
    await dialog.getByText("multiplies the fleet by 4 (1 → 4)").waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect((await c.api<{ desiredCount: number }>("GET", "/ops/fleet")).desiredCount).toBe(1);

    await c.page.fill("#desired-count", "2.5");
    expect(await c.page.getByTestId("desired-count-help").textContent()).toBe(
      "2.5 is not a whole number from 0 to 20 (MAX_WORKER_TASKS)",
    );
    expect(await c.page.getByRole("button", { name: "Apply" }).isDisabled()).toBe(true);
    await c.page.getByRole("button", { name: "Reset to live" }).click();

    // Scaled elsewhere (the API): the planner's running tasks follow without "Use live figures".
    await c.api("PUT", "/ops/fleet", { desiredCount: 2 });
    await until(
      () => planner.inputValue(),
      (v) => v === "2",
      "the planner to follow the fleet",
      60_000,
    );
    expect(await c.page.getByTestId("planner-source-tasks").textContent()).toMatch(/live/);

    // A saved policy takes the count: the banner says so.
    await c.api("PUT", "/ops/autoscaling", { enabled: true, minTasks: 1, maxTasks: 3 });
    await until(
      () => c.page.getByTestId("control-banner").textContent(),
      (t) => /^The autoscaler sets the desired count/.test(t ?? ""),
      "the autoscaler banner",
      15_000,
    );
    expect(await c.page.getByTestId("control-banner").textContent()).toMatch(/kept across restarts/);
    expect(c.consoleErrors).toEqual([]);
  }, 240_000);
});
