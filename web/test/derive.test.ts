import { describe, expect, it } from "vitest";
import { activityMarker, burstMarkers, derivePoint, mergeMarkers } from "../src/lib/derive";
import type { BurstSummary, OpsSnapshot, ScalingActivity } from "../src/lib/ops";

function snapshot(
  atMs: number,
  orders: { queued: number; paid: number; dead?: number },
  extra: Partial<OpsSnapshot> = {},
) {
  return {
    at: new Date(atMs).toISOString(),
    queue: {
      visible: orders.queued,
      inFlight: 3,
      delayed: 0,
      dlq: orders.dead ?? 0,
      oldestAgeSeconds: 12,
      backlog: orders.queued,
      orders: { queued: orders.queued, processing: 0, paid: orders.paid, failed: 0, dead: orders.dead ?? 0 },
    },
    ...extra,
  } as OpsSnapshot;
}

describe("derivePoint", () => {
  it("derives accept and paid rates from the store's exact counts between snapshots", () => {
    const first = derivePoint(snapshot(10_000, { queued: 0, paid: 0 }), undefined);
    expect(Number.isNaN(first.point.acceptPerSecond)).toBe(true);
    expect(first.point.visible).toBe(0);
    const second = derivePoint(snapshot(11_000, { queued: 46, paid: 2 }), first.memory);
    expect(second.point.acceptPerSecond).toBe(48);
    expect(second.point.processPerSecond).toBe(2);
    expect(second.point.oldestAgeSeconds).toBe(12);
    expect(second.point.inFlight).toBe(3);
  });

  it("gives no rate across a gap (an outage) or when a count went down", () => {
    const a = derivePoint(snapshot(0, { queued: 10, paid: 10 }), undefined);
    const late = derivePoint(snapshot(30_000, { queued: 20, paid: 20 }), a.memory);
    expect(Number.isNaN(late.point.acceptPerSecond)).toBe(true);
    const reset = derivePoint(snapshot(31_000, { queued: 0, paid: 0 }), late.memory);
    expect(Number.isNaN(reset.point.acceptPerSecond)).toBe(true);
    expect(Number.isNaN(reset.point.processPerSecond)).toBe(true);
  });

  it("leaves a failing section unknown rather than zero", () => {
    const s = {
      at: new Date(0).toISOString(),
      queue: { error: "SQS down" },
      fleet: { error: "ECS down" },
    } as OpsSnapshot;
    const { point } = derivePoint(s, undefined);
    expect(Number.isNaN(point.visible)).toBe(true);
    expect(Number.isNaN(point.runningTasks)).toBe(true);
  });

  it("takes end-to-end latency from the snapshot, unknown with no payment in the window", () => {
    const latency = (p50: number | null, p99: number | null) => ({
      latency: {
        windowSeconds: 60,
        samples: p50 === null ? 0 : 10,
        endToEndP50Seconds: p50,
        endToEndP99Seconds: p99,
        endToEndMaxSeconds: p99,
      },
    });
    const measured = derivePoint(snapshot(0, { queued: 0, paid: 0 }, latency(3.1, 9)), undefined);
    expect(measured.point.p50Ms).toBeCloseTo(3100, 6);
    expect(measured.point.p99Ms).toBeCloseTo(9000, 6);
    const none = derivePoint(snapshot(0, { queued: 0, paid: 0 }, latency(null, null)), undefined);
    expect(Number.isNaN(none.point.p50Ms)).toBe(true);
  });

  it("falls back to the API's rates when the snapshot has no order counts", () => {
    const s = {
      at: new Date(0).toISOString(),
      rates: { windowSeconds: 10, acceptedPerSecond: 48.3, processedPerSecond: 1.7 },
    } as OpsSnapshot;
    const { point } = derivePoint(s, undefined);
    expect(point.acceptPerSecond).toBe(48.3);
    expect(point.processPerSecond).toBe(1.7);
  });
});

describe("markers", () => {
  const activity = (over: Partial<ScalingActivity>): ScalingActivity => ({
    id: "a1",
    at: new Date(5000).toISOString(),
    actor: "operator",
    direction: "out",
    status: "successful",
    from: 1,
    to: 4,
    cause: "operator set the desired count by hand (1 → 4)",
    source: "local",
    ...over,
  });

  it("marks scaling actions with who did them, and skips held ones", () => {
    expect(activityMarker(activity({}))).toMatchObject({
      kind: "scale-out",
      by: "operator",
      label: "scale 1 → 4",
      at: 5000,
    });
    expect(activityMarker(activity({ direction: "in", actor: "autoscaler", from: 4, to: 1 }))).toMatchObject({
      kind: "scale-in",
      by: "autoscaler",
    });
    expect(activityMarker(activity({ status: "held" }))).toBeUndefined();
  });

  it("marks a burst's start, and its end once it has ended", () => {
    const burst = {
      id: "b1",
      status: "running",
      startedAt: new Date(1000).toISOString(),
      startedBy: "operator",
      target: "http://127.0.0.1:8080",
      spec: { model: "users", mode: "async", users: 20, spawnRate: 10, durationSeconds: 60 },
      requests: 10,
      failures: 0,
      throughputPerSecond: 48,
    } as unknown as BurstSummary;
    expect(burstMarkers(burst).map((m) => m.kind)).toEqual(["burst-start"]);
    const ended = { ...burst, status: "completed", endedAt: new Date(61_000).toISOString() } as BurstSummary;
    const markers = burstMarkers(ended);
    expect(markers.map((m) => m.kind)).toEqual(["burst-start", "burst-end"]);
    expect(markers[0]?.label).toBe("burst start: 20 users async");
  });

  it("merges markers by id, in time order, dropping those older than the window", () => {
    const a = { id: "x", at: 10, kind: "policy" as const, by: "o", label: "x" };
    const b = { id: "y", at: 5, kind: "policy" as const, by: "o", label: "y" };
    const old = { id: "z", at: 1, kind: "policy" as const, by: "o", label: "z" };
    const merged = mergeMarkers([a], [b, old, a], 3);
    expect(merged.map((m) => m.id)).toEqual(["y", "x"]);
    expect(mergeMarkers(merged, [a], 3)).toBe(merged);
  });
});
