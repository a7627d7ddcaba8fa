/**
 * Scheduled capacity in Chromium (issue #16 item 1): the capacity planner's minimum fills the
 * "Schedule a sale" form, a bad start is refused naming the field, a booked window is listed and
 * cancelled from the page, and a window that starts raises the running stack's fleet to its minimum
 * (the API's scheduler at work), then cancelling it lifts the floor.
 *
 * No order traffic: the stack idles at 1 task; the window raises it to 2 worker tasks.
 */
import { describe, expect, it } from "vitest";
import { type ConsoleStack, consoleStackPerFile, until } from "./console-stack.js";

let c: ConsoleStack;
consoleStackPerFile((stack) => {
  c = stack;
});

/** A `datetime-local` value in the browser's zone (the stack and Chromium share this machine's). */
function localInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

interface Window {
  id: string;
  state: string;
  minTasks: number;
}

describe("Schedule a sale, in Chromium", () => {
  it("takes the planner's minimum, refuses a past start naming it, books and cancels a window", async () => {
    const { page } = c;
    await c.goto("/workers");
    await page.getByRole("button", { name: "The study's flash sale" }).click();
    const proposed = ((await page.getByTestId("planner-tasks-for-age").textContent()) ?? "").trim();
    expect(Number(proposed)).toBeGreaterThan(1);
    await page.getByTestId("planner-use-in-sale").click();
    const minTasks = page.locator("input[name=sale-minTasks]");
    await until(
      () => minTasks.inputValue(),
      (v) => v === proposed,
      "the planner's minimum in the form",
    );

    const form = page.getByRole("form", { name: "Schedule a sale" });
    const panel = page.locator("#schedule-sale");
    // A start in the past: the API's 400 names the field, and nothing is booked.
    await page.fill("input[name=sale-startsAt]", localInput(Date.now() - 3_600_000));
    await page.fill("input[name=sale-minTasks]", "2");
    await form.getByRole("button", { name: "Schedule" }).click();
    await until(
      () => panel.textContent(),
      (t) => /startsAt: must not be in the past/.test(t ?? ""),
      "the refusal naming startsAt",
    );
    expect((await c.api<{ windows: Window[] }>("GET", "/ops/schedules")).windows).toEqual([]);

    // Tomorrow, 2 tasks, 5 provisioned Lambda environments.
    const start = Date.now() + 86_400_000;
    await page.fill("input[name=sale-startsAt]", localInput(start));
    await page.fill("input[name=sale-endsAt]", localInput(start + 3_600_000));
    await page.fill("input[name=sale-lambdaProvisionedConcurrency]", "5");
    await form.getByRole("button", { name: "Schedule" }).click();
    const row = page.locator("[data-testid=sale-windows] tbody tr[data-state]");
    await until(
      () => row.count(),
      (n) => n === 1,
      "the booked window in the list",
    );
    expect(await row.getAttribute("data-state")).toBe("upcoming");
    // The stack runs the local Lambda runtime: the window will set its provisioned concurrency.
    expect(await panel.textContent()).toMatch(/set on the local Lambda runtime at the start/);
    const [booked] = (await c.api<{ windows: Window[] }>("GET", "/ops/schedules")).windows;
    expect(booked).toMatchObject({ state: "upcoming", minTasks: 2, lambdaProvisionedConcurrency: 5 });

    await row.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Cancel the window" }).click();
    await until(
      () => row.getAttribute("data-state"),
      (s) => s === "cancelled",
      "the window to be cancelled",
    );
    // Chromium logs the refused request itself (the 400 above); nothing else went wrong.
    const refused = /responded with a status of 400/;
    expect(c.consoleErrors.filter((e) => refused.test(e))).toHaveLength(1);
    expect(c.consoleErrors.filter((e) => !refused.test(e))).toEqual([]);
  }, 120_000);

  it("a window that starts raises the fleet to its minimum; cancelling it from the page lifts the floor", async () => {
    const { page } = c;
    await c.goto("/workers");
    const created = await c.api<Window>("POST", "/ops/schedules", {
      startsAt: new Date(Date.now() + 3000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      minTasks: 2,
    });
    const row = page.locator(`[data-testid=sale-windows] tbody tr[data-state=active]`);
    await until(
      () => row.count(),
      (n) => n === 1,
      "the window to be active",
      30_000,
    );
    await until(
      () => c.api<{ desiredCount: number }>("GET", "/ops/fleet"),
      (f) => f.desiredCount === 2,
      "the scheduler to raise the fleet to 2",
      30_000,
    );
    // Below the floor: refused, naming the window.
    const res = await fetch(`${c.stack.apiUrl}/ops/fleet`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${c.token}` },
      body: JSON.stringify({ desiredCount: 1 }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toContain(`sale window ${created.id}`);

    await row.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Cancel the window" }).click();
    await until(
      () => page.locator("#schedule-sale").textContent(),
      (t) => /the floor is lifted/.test(t ?? ""),
      "the cancellation notice",
    );
    const audit = await c.api<{ entries: Array<{ action: string }> }>("GET", "/ops/audit?action=schedule.");
    expect(audit.entries.map((e) => e.action).slice(0, 2)).toEqual(["schedule.cancel", "schedule.create"]);
    const after = await fetch(`${c.stack.apiUrl}/ops/fleet`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${c.token}` },
      body: JSON.stringify({ desiredCount: 1 }),
    });
    expect(after.status).toBe(200);
    expect(c.consoleErrors.filter((e) => !/responded with a status of 400/.test(e))).toEqual([]);
  }, 120_000);
});
