import type { IntakeView } from "@surge/api/contract";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { IntakeTiles } from "../src/components/intake/Intake";

const view = (over: Partial<IntakeView> = {}): IntakeView => ({
  mode: "limit",
  maxProjectedWaitSeconds: 30,
  projectedWaitSeconds: 42,
  backlog: 210,
  drainPerSecond: 5,
  windowSeconds: 10,
  refused: { limit: 5, paused: 1, syncWait: 2 },
  syncMaxWaitMs: null,
  ...over,
});

/** One tile's markup, from its opening `<div class="tile…` to the next tile's. */
const tile = (html: string, testId: string) => {
  const found = html.split('<div class="tile').find((chunk) => chunk.includes(`data-testid="${testId}"`));
  expect(found, testId).toBeDefined();
  return `<div class="tile${found}`;
};

describe("the Intake tiles", () => {
  it("show the mode, the limit, the projected wait with its figures and refusals by reason", () => {
    const html = renderToStaticMarkup(createElement(IntakeTiles, { intake: view() }));
    expect(tile(html, "intake-mode")).toContain("limit");
    expect(tile(html, "intake-limit")).toContain("30 s");
    expect(tile(html, "intake-projected")).toContain("42 s");
    expect(tile(html, "intake-projected")).toContain("210 waiting ÷ 5/s paid");
    // Over the limit: flagged.
    expect(tile(html, "intake-projected")).toMatch(/class="tile warning"/);
    expect(tile(html, "intake-refused")).toContain(">8<");
    expect(tile(html, "intake-refused")).toContain("limit 5 · paused 1 · sync wait 2");
  });

  it("say unknown, not 0, when orders wait and nothing was paid; a kept limit is not applied while open", () => {
    const unknown = renderToStaticMarkup(
      createElement(IntakeTiles, { intake: view({ projectedWaitSeconds: null, drainPerSecond: null }) }),
    );
    expect(tile(unknown, "intake-projected")).toContain("unknown");
    expect(tile(unknown, "intake-projected")).toContain("nothing paid");
    const open = renderToStaticMarkup(createElement(IntakeTiles, { intake: view({ mode: "open" }) }));
    expect(tile(open, "intake-limit")).toContain("kept, not applied");
    expect(tile(open, "intake-projected")).not.toMatch(/class="tile warning"/);
    const paused = renderToStaticMarkup(createElement(IntakeTiles, { intake: view({ mode: "paused" }) }));
    expect(tile(paused, "intake-mode")).toMatch(/class="tile critical"/);
  });
});
