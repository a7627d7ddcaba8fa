"use client";

import { useState } from "react";
import { useLive } from "../../client/live";
import { ops } from "../../client/ops-client";
import { useOps } from "../../client/use-ops";
import { ago, count, dateTime, seconds, usd } from "../../lib/format";
import { queueAgeSeverity } from "../../lib/grafana";
import { type DlqView, pick, type QueueSection } from "../../lib/ops";
import { Intake } from "../intake/Intake";
import { useConsole, useNow } from "../Shell";
import { ConfirmDialog, Empty, PageHead, ReadOnlyNote, Resource, Table, Tile, useAction } from "../ui";

interface RedriveResult {
  redriven: number;
  orderIds: string[];
  skipped: Array<{ messageId: string; reason: string }>;
}

function QueueTiles({ queue, deadOrders }: { queue: QueueSection | undefined; deadOrders: number | undefined }) {
  return (
    <div className="tiles">
      <Tile
        label="Visible"
        value={queue ? count(queue.visible) : "—"}
        hint="waiting for a task"
        testId="queue-visible"
      />
      <Tile label="In flight" value={queue ? count(queue.inFlight) : "—"} hint="received by a task" />
      <Tile label="Delayed" value={queue ? count(queue.delayed) : "—"} hint="retry backoff" />
      <Tile
        label="DLQ"
        value={queue ? count(queue.dlq) : "—"}
        hint={deadOrders !== undefined ? `${count(deadOrders)} dead orders in the store` : "dead letters"}
        severity={queue && queue.dlq > 0 ? "critical" : "ok"}
        testId="queue-dlq"
      />
      <Tile
        label="Oldest order"
        value={queue ? seconds(queue.oldestAgeSeconds) : "—"}
        severity={queueAgeSeverity(queue?.oldestAgeSeconds)}
        hint="accepted, not yet paid"
      />
      <Tile
        label="Outbox"
        value={queue?.outboxPending !== undefined ? count(queue.outboxPending) : "—"}
        hint="accepted, not yet published"
      />
    </div>
  );
}

/** The DLQ's messages, with a checkbox on each one that names an order to redrive. */
function DeadLetterTable({
  messages,
  selected,
  setSelected,
}: {
  messages: DlqView["messages"];
  selected: Set<string>;
  setSelected: (ids: Set<string>) => void;
}) {
  const now = useNow();
  const redrivable = messages.filter((m) => m.orderId);
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  return (
    <Table
      label="Dead letters"
      columns={[
        {
          key: "select",
          label: (
            <input
              type="checkbox"
              aria-label="Select every message with an order"
              checked={redrivable.length > 0 && redrivable.every((m) => m.orderId && selected.has(m.orderId))}
              onChange={(e) =>
                setSelected(
                  e.target.checked ? new Set(redrivable.flatMap((m) => (m.orderId ? [m.orderId] : []))) : new Set(),
                )
              }
            />
          ),
        },
        "Order",
        "Reason",
        "Dead-lettered",
        "Order status",
        { label: "Attempts", num: true },
        { label: "Total", num: true },
      ]}
    >
      {messages.map((m) => (
        <tr
          key={m.messageId}
          className={m.orderId && selected.has(m.orderId) ? "selected" : undefined}
          data-testid="dlq-row"
        >
          <td>
            {m.orderId ? (
              <input
                type="checkbox"
                aria-label={`Select order ${m.orderId}`}
                checked={selected.has(m.orderId)}
                onChange={() => m.orderId && toggle(m.orderId)}
              />
            ) : (
              <span className="faint" title="No order in this message: nothing to redrive">
                —
              </span>
            )}
          </td>
          <td className="mono">
            {m.orderId ?? (
              <details>
                <summary className="faint">no order (body)</summary>
                <pre className="small">{m.body.slice(0, 500)}</pre>
              </details>
            )}
          </td>
          <td className="small" data-testid="dlq-reason">
            {m.reason}
          </td>
          <td className="small">
            {dateTime(m.sentAt)} <span className="faint">({ago(m.sentAt, now)})</span>
          </td>
          <td>
            {m.order ? (
              <span className="badge">{m.order.status}</span>
            ) : (
              <span className="faint">not in the store</span>
            )}
          </td>
          <td className="num">{m.order ? count(m.order.attempts) : "—"}</td>
          <td className="num">{m.order ? usd(m.order.totalCents / 100) : "—"}</td>
        </tr>
      ))}
    </Table>
  );
}

export function Queue() {
  const { canOperate } = useConsole();
  const { state } = useLive();
  const queue = pick(state, "queue");
  const dlq = useOps<DlqView>("/dlq?limit=200", 5000);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<"all" | "purge" | "purge-dlq" | undefined>();
  const { busy, notice, run } = useAction();

  const messages = dlq.data?.messages ?? [];
  const redrivable = messages.filter((m) => m.orderId);

  const redrive = (orderIds?: string[]) => {
    setConfirm(undefined);
    return run(async () => {
      const r = await ops.post<RedriveResult>("/dlq/redrive", orderIds ? { orderIds } : {});
      setSelected(new Set());
      await dlq.refresh();
      return `Redrove ${r.redriven} order(s)${r.skipped.length ? `; ${r.skipped.length} message(s) skipped (no order in them)` : ""}. They are queued again and will be paid like new ones.`;
    });
  };

  const purge = (which: "orders" | "dlq") => {
    setConfirm(undefined);
    return run(async () => {
      const r = await ops.post<{ messagesBefore: number; ordersMarkedDead: number }>("/queue/purge", {
        confirm: "purge",
        queue: which,
      });
      await dlq.refresh();
      return which === "orders"
        ? `Purged ${r.messagesBefore} message(s). ${r.ordersMarkedDead} waiting order(s) are now dead — explained and redrivable, not lost.`
        : `Purged the DLQ (${r.messagesBefore} message(s)).`;
    });
  };

  const selectedIds = [...selected];
  return (
    <>
      <PageHead title="Queue & DLQ" sub="what waits, what died and why, and putting it back" dashboard="overview" />
      <ReadOnlyNote />
      <QueueTiles queue={queue} deadOrders={dlq.data?.deadOrders} />
      <Intake />
      {notice}
      <section className="panel" aria-labelledby="dlq-title">
        <div className="row" style={{ justifyContent: "space-between", marginBottom: 12 }}>
          <h2 id="dlq-title" style={{ margin: 0 }}>
            Dead letters
          </h2>
          <div className="row">
            <button
              type="button"
              className="primary"
              disabled={!canOperate || busy || selectedIds.length === 0}
              onClick={() => void redrive(selectedIds)}
            >
              Redrive selected ({selectedIds.length})
            </button>
            <button
              type="button"
              disabled={!canOperate || busy || (dlq.data?.deadOrders ?? 0) + redrivable.length === 0}
              onClick={() => setConfirm("all")}
            >
              Redrive all
            </button>
          </div>
        </div>
        <Resource resource={dlq} what="the dead-letter queue">
          {(data) =>
            data.messages.length === 0 ? (
              <Empty>
                The DLQ is empty: nothing has been dead-lettered.
                {data.deadOrders > 0 &&
                  ` (${data.deadOrders} dead order(s) without a DLQ message — purged ones — can still be redriven with "Redrive all".)`}
              </Empty>
            ) : (
              <DeadLetterTable messages={data.messages} selected={selected} setSelected={setSelected} />
            )
          }
        </Resource>
      </section>
      <section className="panel" aria-labelledby="danger-title" style={{ borderColor: "rgba(248,81,73,0.5)" }}>
        <h2 id="danger-title">Purge</h2>
        <p className="muted small">
          Purging the orders queue deletes every waiting message. The orders are not lost: each becomes dead with the
          reason &quot;purged&quot; and can be redriven. Needs the word <span className="mono">purge</span> typed.
        </p>
        <div className="row">
          <button type="button" className="danger" disabled={!canOperate || busy} onClick={() => setConfirm("purge")}>
            Purge the orders queue…
          </button>
          <button
            type="button"
            className="danger"
            disabled={!canOperate || busy}
            onClick={() => setConfirm("purge-dlq")}
          >
            Purge the DLQ…
          </button>
        </div>
      </section>
      <ConfirmDialog
        open={confirm === "all"}
        title="Redrive every dead order?"
        confirmLabel="Redrive all"
        onConfirm={() => void redrive()}
        onCancel={() => setConfirm(undefined)}
      >
        <p>
          Every dead order ({count(dlq.data?.deadOrders ?? 0)}) goes back on the queue and will be paid like a new one.
          If the cause is not fixed they will die again.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "purge" || confirm === "purge-dlq"}
        title={confirm === "purge-dlq" ? "Purge the dead-letter queue?" : "Purge the orders queue?"}
        confirmLabel="Purge"
        danger
        typed="purge"
        onConfirm={() => void purge(confirm === "purge-dlq" ? "dlq" : "orders")}
        onCancel={() => setConfirm(undefined)}
      >
        <p>
          {confirm === "purge-dlq"
            ? `Deletes ${count(queue?.dlq ?? 0)} dead letter(s). The dead orders stay in the store and can still be redriven.`
            : `Deletes ${count(queue?.visible ?? 0)} visible message(s). Waiting orders become dead (reason: purged) and stay redrivable.`}
        </p>
      </ConfirmDialog>
    </>
  );
}
