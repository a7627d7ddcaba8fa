import { describe, expect, it } from "vitest";
import { snapshotMarkers } from "../src/lib/derive";
import { saleWindowMarkers } from "../src/lib/markers";
import type { SchedulesView } from "../src/lib/ops";

type W = SchedulesView["windows"][number];
const w = (id: string, startsAt: string, endsAt: string, extra: Partial<W> = {}): W => ({
  id,
  startsAt,
  endsAt,
  minTasks: 6,
  lambdaProvisionedConcurrency: null,
  state: "past",
  createdAt: "2030-01-01T00:00:00.000Z",
  createdBy: "ops",
  cancelledAt: null,
  ...extra,
});
const at = (iso: string) => Date.parse(iso);

describe("sale windows on the timeline", () => {
  const view: SchedulesView = {
    activeId: "b",
    platform: "local",
    windows: [
      w("a", "2030-01-01T09:00:00.000Z", "2030-01-01T09:30:00.000Z", { lambdaProvisionedConcurrency: 10 }),
      w("b", "2030-01-01T10:00:00.000Z", "2030-01-01T11:00:00.000Z", { state: "active" }),
      w("c", "2030-01-01T12:00:00.000Z", "2030-01-01T13:00:00.000Z", { state: "upcoming" }),
      // Cancelled before it began: never started, no marker.
      w("d", "2030-01-01T08:00:00.000Z", "2030-01-01T08:30:00.000Z", {
        state: "cancelled",
        cancelledAt: "2030-01-01T07:00:00.000Z",
      }),
      // Cancelled while active: it ends at the cancellation.
      w("e", "2030-01-01T07:00:00.000Z", "2030-01-01T08:00:00.000Z", {
        state: "cancelled",
        cancelledAt: "2030-01-01T07:20:00.000Z",
      }),
    ],
  };

  it("marks the starts and ends that have happened, and a cancellation as the end", () => {
    const markers = saleWindowMarkers(view, at("2030-01-01T10:15:00Z"));
    expect(markers.map((m) => [m.id, new Date(m.at).toISOString(), m.label])).toEqual([
      ["sale-start:a", "2030-01-01T09:00:00.000Z", "sale: floor 6"],
      ["sale-end:a", "2030-01-01T09:30:00.000Z", "sale over"],
      ["sale-start:b", "2030-01-01T10:00:00.000Z", "sale: floor 6"],
      ["sale-start:e", "2030-01-01T07:00:00.000Z", "sale: floor 6"],
      ["sale-end:e", "2030-01-01T07:20:00.000Z", "sale cancelled"],
    ]);
    expect(markers[0]).toMatchObject({
      kind: "sale",
      by: "ops",
      detail: expect.stringContaining("10 provisioned Lambda"),
    });
    expect(saleWindowMarkers(undefined, at("2030-01-01T10:15:00Z"))).toEqual([]);
  });

  it("come with the snapshot, beside the bursts'", () => {
    const markers = snapshotMarkers({ at: "2030-01-01T09:10:00.000Z", schedules: view });
    expect(markers.map((m) => m.id)).toEqual(["sale-start:a", "sale-start:e", "sale-end:e"]);
  });
});
