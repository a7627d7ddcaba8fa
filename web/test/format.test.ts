import { describe, expect, it } from "vitest";
import { ago, count, ms, num, percent, perSecond, seconds, usd } from "../src/lib/format";

describe("format", () => {
  it("never shows an unknown figure as zero", () => {
    for (const f of [count, num, perSecond, ms, seconds, percent, usd]) {
      expect(f(Number.NaN)).toBe("—");
      expect(f(undefined)).toBe("—");
      expect(f(null)).toBe("—");
    }
  });

  it("puts the unit on every figure, in the unit that reads best", () => {
    expect(ms(110)).toBe("110 ms");
    expect(ms(10_707)).toBe("10.7 s");
    expect(ms(0.25)).toBe("0.25 ms");
    expect(seconds(0)).toBe("0 s");
    expect(seconds(0.11)).toBe("110 ms");
    expect(seconds(42)).toBe("42 s");
    expect(seconds(27 * 60)).toBe("27 min");
    expect(seconds(90)).toBe("1 min 30 s");
    expect(seconds(5400)).toBe("1 h 30 min");
    expect(perSecond(48.27)).toBe("48.3/s");
    expect(perSecond(1.6667)).toBe("1.67/s");
    expect(count(2884)).toBe("2,884");
    expect(percent(0.525)).toBe("52.5%");
  });

  it("shows money with cents, and sub-cent amounts with their digits", () => {
    expect(usd(18.333)).toBe("$18.33");
    expect(usd(0.00256)).toBe("$0.00256");
    expect(usd(0)).toBe("$0");
  });

  it("says how long ago, from the given clock", () => {
    expect(ago(1_000, 43_000)).toBe("42 s ago");
    expect(ago(new Date(0).toISOString(), 180_000)).toBe("3 min ago");
  });
});
