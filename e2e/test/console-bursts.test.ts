/**
 * The flash-sale page in Chromium (issue #17 part 1, issue #14 item 9): "Run … on both" follows
 * the form's validation and names every bad field, and a burst with SLO gates shows pass/fail per
 * gate on its page, the queue gates once the queue has drained.
 *
 * Traffic goes to the stack's own API on 127.0.0.1 only: one burst of 5 orders/s for 2 s.
 */
import { describe, expect, it } from "vitest";
import { type ConsoleStack, consoleStackPerFile, until } from "./console-stack.js";

let c: ConsoleStack;
consoleStackPerFile((stack) => {
  c = stack;
});

describe("flash-sale page, in Chromium", () => {
  it("an invalid form disables Run … on both and lists every bad field", async () => {
    const { page } = c;
    await c.goto("/flash-sale");
    await page.getByRole("button", { name: "users (Locust)" }).click();
    await page.fill("input[name=users]", "999999");
    await page.fill("input[name=durationSeconds]", "0");
    const both = page.getByRole("button", { name: /on both$/ });
    await until(() => both.isDisabled(), Boolean, "Run … on both to be disabled");
    const why = (await page.getByTestId("compare-invalid").textContent()) ?? "";
    expect(why).toMatch(/Users: a whole number, 1–2000/);
    expect(why).toMatch(/Duration: 0\.1–600 s/);
    const summary = await page.getByTestId("burst-problems").locator("li").allTextContents();
    expect(summary).toEqual(["Users: a whole number, 1–2000", "Duration: 0.1–600 s"]);
    expect(await page.getByRole("button", { name: "Start async burst" }).isDisabled()).toBe(true);

    await page.fill("input[name=users]", "2");
    await page.fill("input[name=durationSeconds]", "2");
    await until(() => both.isEnabled(), Boolean, "Run … on both to be enabled again");
    expect(await page.getByTestId("compare-invalid").count()).toBe(0);
    expect(await page.getByTestId("burst-problems").count()).toBe(0);
  }, 120_000);

  it("a burst with SLO gates shows pass or fail for each, the drain gate once the queue drained", async () => {
    const { page } = c;
    await c.goto("/flash-sale");
    await page.getByRole("button", { name: "arrival rate (k6)" }).click();
    await page.getByRole("button", { name: "Poisson" }).click();
    await page.fill("input[name=ratePerSecond]", "5");
    await page.fill("input[name=durationSeconds]", "2");
    await page.fill("input[name=gate-p99Ms]", "60000");
    await page.fill("input[name=gate-failureRatio]", "0");
    // With 1 s payments some order always waits while the load runs: an age of 0 cannot hold.
    await page.fill("input[name=gate-oldestAgeSeconds]", "0");
    await page.fill("input[name=gate-drainSeconds]", "60");
    await page.getByRole("button", { name: "Start async burst" }).click();
    await page.getByTestId("active-burst").waitFor();
    await page.getByTestId("burst-gates").waitFor();

    // Once decided, the history's row says so; its detail shows each gate.
    const cell = page.getByTestId("burst-gates-cell").first();
    await until(
      () => cell.textContent(),
      (t) => /failed|pass/.test(t ?? ""),
      "the gates to be decided",
      90_000,
    );
    expect(await cell.textContent()).toBe("1 of 4 failed");
    await page.locator("table[aria-label='Past bursts'] tbody tr").first().locator("td button").first().click();
    const gates = page.getByTestId("burst-gates");
    await gates.waitFor();
    const result = async (metric: string) =>
      ((await gates.locator(`tr[data-gate=${metric}] td`).nth(3).textContent()) ?? "").trim();
    expect(await result("p99Ms")).toBe("pass");
    expect(await result("failureRatio")).toBe("pass");
    expect(await result("oldestAgeSeconds")).toBe("fail");
    expect(await result("drainSeconds")).toMatch(/^pass/);
    const table = await page.getByRole("table", { name: "Latency breakdown" }).textContent();
    expect(table).toMatch(/service time \(send → answer\)/);
    expect(table).toMatch(/schedule lag/);
    expect(c.consoleErrors).toEqual([]);
  }, 180_000);
});
