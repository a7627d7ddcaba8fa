"use client";

import { useLive } from "../../client/live";
import { ago, clock } from "../../lib/format";
import { liveFigure, runbookHref, sourceHref } from "../../lib/grafana";
import { type AlertView, section } from "../../lib/ops";
import { useConsole, useNow } from "../Shell";
import { Empty } from "../ui";

/**
 * Firing alerts and the recently resolved. A summary's value is the rule's at its last evaluation:
 * the live figure stands beside it, or the time it was measured does. Runbook links open the
 * console's Runbook page; source links the configured Prometheus or Grafana (docs/console.md).
 */
export function Alerts() {
  const { state } = useLive();
  const now = useNow();
  const { grafanaUrl, prometheusUrl } = useConsole();
  const failing = section(state, "alerts");
  if (!failing.ok && failing.error) return <div className="state error">Alerts unavailable: {failing.error}</div>;
  if (!failing.ok) return <Empty>Waiting for the first snapshot…</Empty>;
  const { firing: alerts, resolved } = failing.value;
  return (
    <>
      {alerts.length === 0 ? (
        <Empty>Nothing firing.</Empty>
      ) : (
        alerts.map((a) => (
          <FiringAlert
            key={a.id}
            alert={a}
            now={now}
            live={liveFigure(a, state)}
            links={{ grafanaUrl, prometheusUrl }}
          />
        ))
      )}
      {resolved.length > 0 && (
        <details style={{ marginTop: 12 }}>
          <summary className="muted small">Recently resolved ({resolved.length})</summary>
          <ul className="events">
            {resolved.slice(0, 10).map((a) => (
              <li key={a.id}>
                <span className="mono faint" suppressHydrationWarning>
                  {clock(a.endsAt ?? a.lastReceivedAt)}
                </span>
                <span>
                  {a.name} <span className="faint">resolved</span>
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

function FiringAlert({
  alert: a,
  now,
  live,
  links,
}: {
  alert: AlertView;
  now: number;
  live: string | undefined;
  links: { grafanaUrl: string | null; prometheusUrl: string | null };
}) {
  const source = sourceHref(a, links);
  const quotesValue = a.summary !== undefined && /\d/.test(a.summary);
  return (
    <div className={`alert-item ${a.severity === "critical" ? "critical" : ""}`} data-testid="alert-firing">
      <div className="row" style={{ justifyContent: "space-between" }}>
        <strong>{a.name}</strong>
        <span className={`badge ${a.severity === "critical" ? "critical" : "warning"}`}>{a.severity ?? "alert"}</span>
      </div>
      {a.summary && (
        <div>
          {a.summary}
          {quotesValue && (
            <span className="faint small" data-testid="alert-measured" suppressHydrationWarning>
              {" "}
              (as of {clock(a.lastReceivedAt)}
              {live ? (
                <>
                  ; <span data-testid="alert-live">now {live}</span>
                </>
              ) : (
                `, ${ago(a.lastReceivedAt, now)}`
              )}
              )
            </span>
          )}
        </div>
      )}
      {!quotesValue && live && (
        <div className="faint small" data-testid="alert-live">
          now {live}
        </div>
      )}
      <div className="faint small">
        firing since <span suppressHydrationWarning>{`${clock(a.startsAt)} (${ago(a.startsAt, now)})`}</span> · from{" "}
        {a.source}
        {a.stale && " · not re-sent lately: may have resolved unseen"}
      </div>
      <div className="row small">
        <a href={runbookHref(a)} data-testid="alert-runbook">
          runbook
        </a>
        {a.links.dashboard && (
          <a href={a.links.dashboard} target="_blank" rel="noreferrer">
            dashboard ↗
          </a>
        )}
        {source && (
          <a href={source} target="_blank" rel="noreferrer" data-testid="alert-source">
            source ↗
          </a>
        )}
      </div>
    </div>
  );
}
