import { DASHBOARDS, QUEUE_AGE } from "@surge/grafana/common";
import { describe, expect, it } from "vitest";
import { changes } from "../src/lib/audit";
import { concurrencyJump, desiredCountJump } from "../src/lib/controls";
import { histogram } from "../src/lib/equal-width-bins";
import { dashboardUrl, GRAFANA_DASHBOARDS, QUEUE_AGE_THRESHOLDS, queueAgeSeverity } from "../src/lib/grafana";

describe("Grafana links and thresholds", () => {
  it("use the dashboards' UIDs and the alerts' queue-age thresholds", () => {
    for (const key of Object.keys(GRAFANA_DASHBOARDS) as Array<keyof typeof GRAFANA_DASHBOARDS>) {
      expect(GRAFANA_DASHBOARDS[key].uid).toBe(DASHBOARDS[key].uid);
    }
    expect(QUEUE_AGE_THRESHOLDS).toEqual(QUEUE_AGE);
    expect(dashboardUrl("http://grafana:3001/", "workers")).toBe(
      "http://grafana:3001/d/surge-workers?from=now-1h&to=now&refresh=5s",
    );
    expect(queueAgeSeverity(59)).toBe("ok");
    expect(queueAgeSeverity(60)).toBe("warning");
    expect(queueAgeSeverity(300)).toBe("critical");
  });
});

describe("confirmations on big fleet changes", () => {
  it("asks before 0 tasks, ten more at once, or a fleet tripled", () => {
    expect(desiredCountJump(4, 0).big).toBe(true);
    // Issue #14: 1 → 4 is more than ×3, and the docs call ×3 a big jump: one rule asks.
    expect(desiredCountJump(1, 4).big).toBe(true);
    expect(desiredCountJump(1, 2).big).toBe(false);
    expect(desiredCountJump(4, 40).big).toBe(true);
    expect(desiredCountJump(2, 8).big).toBe(true);
    expect(desiredCountJump(10, 12).big).toBe(false);
    expect(desiredCountJump(3, 3).big).toBe(false);
  });

  it("asks before a 4× concurrency change, saying it adds in-flight, not throughput, above the slots", () => {
    expect(concurrencyJump(5, 10).big).toBe(false);
    const big = concurrencyJump(5, 50, 5);
    expect(big.big).toBe(true);
    expect(big.reason).toMatch(/not throughput/);
  });
});

describe("init duration histogram", () => {
  it("bins on round edges and counts every value", () => {
    const bins = histogram([57, 58.4, 59, 60, 61, 66, 66], 10);
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(7);
    expect(bins[0]?.from).toBe(57);
    expect(bins.every((b) => b.to - b.from === 1)).toBe(true);
    expect(histogram([])).toEqual([]);
  });
});

describe("audit before → after", () => {
  it("lists only the fields that changed", () => {
    expect(changes({ desiredCount: 1, concurrency: 5 }, { desiredCount: 4, concurrency: 5 })).toEqual([
      { field: "desiredCount", from: "1", to: "4" },
    ]);
    expect(changes(undefined, { redriven: 1 })).toEqual([{ field: "redriven", from: "", to: "1" }]);
    expect(changes(undefined, undefined)).toEqual([]);
  });
});
