import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import {
  ageTargetFromInput,
  OldestAgeField,
  oldestAgeHint,
  SignalBadge,
} from "../src/components/workers/ScalingSignal";

const field = (props: Partial<Parameters<typeof OldestAgeField>[0]>) =>
  renderToStaticMarkup(createElement(OldestAgeField, { value: null, onChange: () => {}, ...props }));

describe("the policy form's oldest-order target", () => {
  it("shows an empty box meaning backlog only, and the target when there is one", () => {
    const off = field({ value: null });
    expect(off).toContain('name="targetOldestAgeSeconds"');
    expect(off).toContain('value=""');
    expect(off).toContain('placeholder="off"');
    expect(off).toContain("empty = backlog only");
    expect(field({ value: 15 })).toContain('value="15"');
  });

  it("sends null for an empty box and the number otherwise", () => {
    expect(ageTargetFromInput(Number.NaN)).toBeNull();
    expect(ageTargetFromInput(12.5)).toBe(12.5);
  });

  it("shows the API's 400 for the field in place of the help", () => {
    const html = field({ value: 0, problem: "must be null or a number of seconds in (0, 3600]" });
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain("must be null or a number of seconds in (0, 3600]");
    expect(html).not.toContain("empty = backlog only");
  });
});

describe("the activity list's signal", () => {
  const badge = (activity: Parameters<typeof SignalBadge>[0]["activity"]) =>
    renderToStaticMarkup(createElement(SignalBadge, { activity }));

  it("names the signal that drove each scaling activity, with the age it saw", () => {
    const age = badge({ signal: "age", oldestAgeSeconds: 41 });
    expect(age).toContain('data-signal="age"');
    expect(age).toContain(">oldest order<");
    expect(age).toContain('title="oldest order waiting for a task: 41 s"');
    expect(badge({ signal: "backlog" })).toContain(">backlog<");
    expect(badge({ signal: "bounds" })).toContain(">min/max<");
    // Entries that moved no tasks (who took control) have no signal.
    expect(badge({})).toBe("");
  });

  it("hints the age target beside the oldest waiting order", () => {
    expect(oldestAgeHint(15)).toBe("for a task; target 15 s");
    expect(oldestAgeHint(null)).toBe("for a task; no age target");
  });
});
