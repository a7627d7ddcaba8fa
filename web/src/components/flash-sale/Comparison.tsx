"use client";

import { type ComparisonRow, compare } from "../../lib/comparison";
import { count, dateTime, ms, num, percent, perSecond, times } from "../../lib/format";
import type { BurstSummary } from "../../lib/ops";
import { Empty, Table } from "../ui";

function show(row: ComparisonRow, v: number | undefined): string {
  if (v === undefined) return "—";
  switch (row.kind) {
    case "count":
      return count(v);
    case "ratio":
      return percent(v);
    case "rate":
      return perSecond(v);
    case "ms":
      return ms(v);
  }
}

function verdict(row: ComparisonRow, sync: number, async: number): { text: string; className: string } {
  if (row.kind === "ratio") {
    if (!Number.isFinite(sync) || !Number.isFinite(async)) return { text: "—", className: "" };
    const diff = async - sync;
    if (Math.abs(diff) < 0.0005) return { text: "same", className: "" };
    const good = row.better === "higher" ? diff > 0 : diff < 0;
    // A difference of two percentages is in points, not a percentage of a percentage.
    return { text: `${diff > 0 ? "+" : "−"}${num(Math.abs(diff) * 100)} pts`, className: good ? "better" : "worse" };
  }
  const x = row.improvement;
  if (!Number.isFinite(x)) return { text: "—", className: "" };
  return { text: x >= 1 ? times(x) : `${times(1 / x)} worse`, className: x >= 1 ? "better" : "worse" };
}

/** The study's comparison table, with the two measured bursts beside the study's own figures. */
export function ComparisonTable({ sync, async }: { sync: BurstSummary | undefined; async: BurstSummary | undefined }) {
  if (!sync || !async) {
    return (
      <Empty>
        Needs a finished sync burst and a finished async burst{sync ? " (no async yet)" : async ? " (no sync yet)" : ""}
        . Run the comparison above, or pick two bursts in the history.
      </Empty>
    );
  }
  const rows = compare(sync, async);
  return (
    <>
      <Table
        label="Sync versus async comparison"
        columns={[
          "Metric",
          { label: "Sync (measured)", num: true },
          { label: "Async (measured)", num: true },
          { label: "Improvement", num: true },
          { label: "Study: sync", num: true },
          { label: "Study: async", num: true },
        ]}
        testId="comparison-table"
      >
        {rows.map((row) => {
          const v = verdict(row, row.sync, row.async);
          return (
            <tr key={row.key}>
              <td>{row.label}</td>
              <td className="num">{show(row, row.sync)}</td>
              <td className="num">{show(row, row.async)}</td>
              <td className={`num ${v.className}`}>{v.text}</td>
              <td className="num faint" title={row.studyEstimate ?? row.studyLines}>
                {show(row, row.studySync)}
                {row.studyEstimate !== undefined && row.studySync !== undefined ? " (estimate ¹)" : ""}
              </td>
              <td className="num faint" title={row.studyLines}>
                {show(row, row.studyAsync)}
              </td>
            </tr>
          );
        })}
      </Table>
      <p className="faint small" style={{ marginTop: 8 }} data-testid="comparison-study-sources">
        Study columns: its comparison table (flash-sale-report.txt:407-415); it has no median or p99 row, so those come
        from its Test 2 and Test 3 results ({rows.find((r) => r.key === "p50Ms")?.studyLines}; p99:{" "}
        {rows.find((r) => r.key === "p99Ms")?.studyLines}). ¹ {rows.find((r) => r.studyEstimate)?.studyEstimate}.
      </p>
      <p className="faint small" style={{ marginTop: 8 }}>
        Sync: burst from {dateTime(sync.startedAt)} ({sync.spec.durationSeconds} s). Async: burst from{" "}
        {dateTime(async.startedAt)} ({async.spec.durationSeconds} s). &quot;Orders lost&quot; counts failed answers,
        requests still unanswered when the burst ended (customers who gave up) and arrivals dropped at the in-flight
        cap, over all attempts. Async accepts in ~100 ms and pays later: the queue, not the customer, absorbs the surge
        — watch it drain on the Overview.
      </p>
    </>
  );
}
