"use client";

import { type CSSProperties, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { describeError, OpsError } from "../client/ops-client";
import { type DashboardKey, dashboardUrl, GRAFANA_DASHBOARDS, type Severity } from "../lib/grafana";
import { useConsole } from "./Shell";

/** Page title, a one-line purpose, and links (Grafana) on the right. */
export function PageHead({
  title,
  sub,
  dashboard,
  children,
}: {
  title: string;
  sub?: string;
  dashboard?: DashboardKey;
  children?: ReactNode;
}) {
  return (
    <div className="page-head">
      <h1>{title}</h1>
      {sub && <span className="sub">{sub}</span>}
      <span className="links">
        {children}
        {dashboard && <GrafanaLink dashboard={dashboard} />}
      </span>
    </div>
  );
}

function GrafanaLink({ dashboard }: { dashboard: DashboardKey }) {
  const { grafanaUrl } = useConsole();
  if (!grafanaUrl) return null;
  return (
    <a href={dashboardUrl(grafanaUrl, dashboard)} target="_blank" rel="noreferrer">
      {GRAFANA_DASHBOARDS[dashboard].title} in Grafana ↗
    </a>
  );
}

export function Tile({
  label,
  value,
  unit,
  hint,
  severity = "ok",
  color,
  testId,
}: {
  label: string;
  value: ReactNode;
  unit?: string;
  hint?: ReactNode;
  severity?: Severity;
  color?: string;
  testId?: string;
}) {
  return (
    <div className={`tile ${severity === "ok" ? "" : severity}`} data-testid={testId}>
      <div className="label">
        {color && <span className="swatch" style={{ background: color }} aria-hidden="true" />}
        {label}
      </div>
      <div className={`value ${typeof value === "string" && value.length > 9 ? "long" : ""}`}>
        {value}
        {unit && <small>{unit}</small>}
      </div>
      {hint !== undefined && <div className="hint">{hint}</div>}
    </div>
  );
}

const SKELETON_WIDTHS = ["90%", "75%", "60%", "45%", "30%"];

export function Loading({ label = "Loading…", lines = 3 }: { label?: string; lines?: number }) {
  return (
    <div aria-busy="true" aria-live="polite">
      <span className="sr-only">{label}</span>
      {SKELETON_WIDTHS.slice(0, lines).map((width) => (
        <div key={width} className="skeleton" style={{ width, marginBottom: 8 }} />
      ))}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state">{children}</div>;
}

export function ErrorBox({ error, retry, what }: { error: unknown; retry?: () => void; what?: string }) {
  const unavailable = error instanceof OpsError && error.unavailable;
  return (
    <div className="state error" role="alert">
      <strong>{what ? `Could not load ${what}` : "Something failed"}</strong>
      <p style={{ margin: "6px 0" }}>{describeError(error)}</p>
      {error instanceof OpsError && error.status === 404 && (
        <p className="muted small">This API does not serve that route yet (HTTP 404).</p>
      )}
      {unavailable && (
        <p className="muted small">The console will keep trying; the live figures show when the API is back.</p>
      )}
      {retry && (
        <button type="button" className="small" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

/**
 * Data, or its loading / error state. Keeps stale data on screen beside an
 * error from a later refresh (flagged), rather than blanking the page.
 */
export function Resource<T>({
  resource,
  what,
  children,
}: {
  resource: { data: T | undefined; error: unknown; loading: boolean; refresh: () => void | Promise<void> };
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (resource.data === undefined) {
    if (resource.error) return <ErrorBox error={resource.error} what={what} retry={() => void resource.refresh()} />;
    return <Loading label={`Loading ${what}…`} />;
  }
  return (
    <>
      {resource.error ? (
        <div className="banner warning small" role="status">
          Showing the last good {what}: the latest refresh failed ({describeError(resource.error)}).
        </div>
      ) : null}
      {children(resource.data)}
    </>
  );
}

/** A header cell: plain text, or a right-aligned figure (`num`), or any node with a key. */
export type Column = string | { label: ReactNode; key?: string; num?: boolean };

/** A scrolling table with its header row; the rows are the children. */
export function Table({
  label,
  columns,
  children,
  maxHeight,
  style,
  testId,
}: {
  label: string;
  columns: Column[];
  children: ReactNode;
  maxHeight?: number;
  style?: CSSProperties;
  testId?: string;
}) {
  return (
    <div className="table-wrap" style={maxHeight === undefined ? style : { ...style, maxHeight }}>
      <table aria-label={label} data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) =>
              typeof c === "string" ? (
                <th key={c}>{c}</th>
              ) : (
                <th key={c.key ?? String(c.label)} className={c.num ? "num" : undefined}>
                  {c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/**
 * A modal confirmation on the native <dialog> (focus is trapped and restored,
 * Escape cancels). With `typed`, the confirm button stays disabled until that
 * exact word is typed — for what cannot be undone.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger,
  typed,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  typed?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState("");
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setText("");
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);
  const ready = typed === undefined || text === typed;
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) onConfirm();
        }}
      >
        <h2 id={titleId}>{title}</h2>
        <div>{children}</div>
        {typed !== undefined && (
          <label className="field" style={{ marginTop: 12 }}>
            <span>
              Type <strong className="mono">{typed}</strong> to confirm
            </span>
            <input
              type="text"
              value={text}
              onChange={(e) => setText(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              data-testid="typed-confirmation"
            />
          </label>
        )}
        <div className="actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className={danger ? "danger" : "primary"} disabled={!ready}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A short-lived result line after an action: what happened, or why it failed. */
function useNotice(): [ReactNode, (kind: "ok" | "error", text: string) => void] {
  const [notice, setNotice] = useState<{ kind: "ok" | "error"; text: string; at: number }>();
  useEffect(() => {
    if (!notice || notice.kind === "error") return;
    const timer = window.setTimeout(() => setNotice(undefined), 8000);
    return () => window.clearTimeout(timer);
  }, [notice]);
  const node = notice ? (
    <div
      className={`banner ${notice.kind === "ok" ? "info" : ""} small`}
      role={notice.kind === "ok" ? "status" : "alert"}
    >
      {notice.text}
    </div>
  ) : null;
  return [node, (kind, text) => setNotice({ kind, text, at: Date.now() })];
}

/**
 * One control action at a time: `busy` while it runs, then a notice with the text it
 * resolves to, or with why it failed (after `onError`, e.g. to mark the fields the API named).
 */
export function useAction(): {
  busy: boolean;
  notice: ReactNode;
  run: (action: () => Promise<string>, onError?: (e: unknown) => void) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [notice, notify] = useNotice();
  const run = async (action: () => Promise<string>, onError?: (e: unknown) => void) => {
    setBusy(true);
    try {
      notify("ok", await action());
    } catch (e) {
      notify("error", describeError(e));
      onError?.(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, notice, run };
}

/** Why the controls are disabled for this sign-in, when they are. */
export function ReadOnlyNote() {
  const { canOperate } = useConsole();
  if (canOperate) return null;
  return (
    <p className="banner warning small" role="note">
      This token is read-only: controls are disabled.
    </p>
  );
}
