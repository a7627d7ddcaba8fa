import { describe, expect, it } from "vitest";
import { emptyPoint, SERIES, Timeline } from "../src/lib/timeline";

const at = (t: number, visible: number) => ({ ...emptyPoint(t), visible });

describe("Timeline", () => {
  it("keeps the newest points once full, oldest first", () => {
    const tl = new Timeline(3);
    for (let i = 1; i <= 5; i++) tl.push(at(i * 1000, i));
    expect(tl.length).toBe(3);
    expect([0, 1, 2].map((i) => tl.valueAt("visible", i))).toEqual([3, 4, 5]);
    expect(tl.timeAt(0)).toBe(3000);
    expect(tl.latest()?.visible).toBe(5);
  });

  it("ignores a point that is not newer than the last (a replayed event)", () => {
    const tl = new Timeline(10);
    expect(tl.push(at(2000, 1))).toBe(true);
    expect(tl.push(at(2000, 2))).toBe(false);
    expect(tl.push(at(1000, 3))).toBe(false);
    expect(tl.length).toBe(1);
  });

  it("round-trips through the wire form, unknown values as null, and sends only what is new", () => {
    const tl = new Timeline(10);
    tl.push({ ...emptyPoint(1000), visible: 1.23456 });
    tl.push(at(2000, 2));
    const all = tl.toColumns();
    expect(all.t).toEqual([1000, 2000]);
    expect(all.visible).toEqual([1.235, 2]);
    expect(all.dlq).toEqual([null, null]);
    expect(tl.toColumns(1000).t).toEqual([2000]);
    const copy = new Timeline(10);
    expect(copy.appendColumns(all)).toBe(2);
    expect(Number.isNaN(copy.valueAt("dlq", 0))).toBe(true);
    expect(Object.keys(all).sort()).toEqual(["t", ...SERIES].sort());
  });

  it("finds points by time across the ring's wrap", () => {
    const tl = new Timeline(4);
    for (let i = 1; i <= 7; i++) tl.push(at(i * 1000, i));
    expect(tl.indexAtOrAfter(5500)).toBe(2);
    expect(tl.timeAt(tl.indexAtOrAfter(5500))).toBe(6000);
    expect(tl.indexAtOrAfter(0)).toBe(0);
    expect(tl.indexAtOrAfter(99_000)).toBe(4);
  });
});
