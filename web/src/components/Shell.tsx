"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { LiveProvider, useLive } from "../client/live";
import { setCsrfToken } from "../client/ops-client";
import { ago, clock, count, seconds } from "../lib/format";
import { type OpsSnapshot, pick } from "../lib/ops";

interface ConsoleSession {
  label: string;
  role: "operator" | "read-only";
  csrf: string;
}

interface ConsoleContextValue {
  session: ConsoleSession;
  grafanaUrl: string | null;
  /** Prometheus's external URL (PROMETHEUS_URL): alert source links open there. */
  prometheusUrl: string | null;
  apiUrl: string;
  /** Whether this sign-in may change anything (a read-only token may not). */
  canOperate: boolean;
}

const ConsoleContext = createContext<ConsoleContextValue | null>(null);

export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error("useConsole outside the console shell");
  return value;
}

const NAV = [
  { href: "/", label: "Overview" },
  { href: "/flash-sale", label: "Flash sale" },
  { href: "/workers", label: "Workers" },
  { href: "/queue", label: "Queue & DLQ" },
  { href: "/lambda", label: "Lambda" },
  { href: "/cost", label: "Cost" },
  { href: "/audit", label: "Audit" },
  { href: "/runbook", label: "Runbook" },
] as const;

export function Shell(props: {
  session: ConsoleSession;
  grafanaUrl: string | null;
  prometheusUrl?: string | null;
  apiUrl: string;
  apiReachable: boolean;
  initialState: OpsSnapshot | null;
  children: ReactNode;
}) {
  // Set during render, in the browser only: children's effects (which may send requests) run before ours.
  if (typeof window !== "undefined") setCsrfToken(props.session.csrf);
  const value: ConsoleContextValue = {
    session: props.session,
    grafanaUrl: props.grafanaUrl,
    prometheusUrl: props.prometheusUrl ?? null,
    apiUrl: props.apiUrl,
    canOperate: props.session.role === "operator",
  };
  return (
    <ConsoleContext.Provider value={value}>
      <LiveProvider initialState={props.initialState}>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <div className="shell">
          <TopBar session={props.session} apiUrl={props.apiUrl} />
          <Nav />
          <main id="main" className="main" tabIndex={-1}>
            <UpstreamBanner apiUrl={props.apiUrl} reachableAtRender={props.apiReachable} />
            {props.children}
          </main>
        </div>
      </LiveProvider>
    </ConsoleContext.Provider>
  );
}

/** Ticks once a second so "12 s ago" stays true between stream events. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function LiveIndicator() {
  const { status, connection, lastTickAt } = useLive();
  const now = useNow();
  let dot = "waiting";
  let text = "connecting…";
  if (connection === "reconnecting") {
    dot = "down";
    text = "console stream lost — reconnecting…";
  } else if (status?.state === "live") {
    const age = lastTickAt ? now - lastTickAt : 0;
    dot = age > 5000 ? "waiting" : "live";
    text = age > 5000 ? `no update for ${seconds(Math.round(age / 1000))}` : "live · 1 s";
  } else if (status?.state === "down") {
    dot = "down";
    text = "API not answering";
  } else if (status?.state === "connecting") {
    text = "connecting to the API…";
  }
  return (
    <span className="row small" role="status" aria-live="polite" title={status?.error ?? undefined}>
      <span className={`dot ${dot}`} aria-hidden="true" />
      <span>{text}</span>
    </span>
  );
}

function AlertsBadge() {
  const { state } = useLive();
  const alerts = pick(state, "alerts");
  const firing = alerts?.firing.length ?? 0;
  if (firing === 0) return null;
  const critical = alerts?.firing.some((a) => a.severity === "critical");
  return (
    <Link href="/#alerts" className={`badge ${critical ? "critical" : "warning"}`}>
      {count(firing)} alert{firing === 1 ? "" : "s"} firing
    </Link>
  );
}

function TopBar({ session }: { session: ConsoleSession; apiUrl: string }) {
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        <span aria-hidden="true">⚡</span> Surge
      </Link>
      <LiveIndicator />
      <AlertsBadge />
      <span className="spacer" />
      <span className="who">
        signed in as <strong>{session.label}</strong>
        {session.role === "read-only" && <span className="badge warning"> read-only</span>}
      </span>
      <form method="post" action="/api/session/sign-out">
        <input type="hidden" name="csrf" value={session.csrf} />
        <button type="submit" className="small ghost">
          Sign out
        </button>
      </form>
    </header>
  );
}

function Nav() {
  const pathname = usePathname();
  const { state } = useLive();
  const queue = pick(state, "queue");
  const fleet = pick(state, "fleet");
  const bursts = pick(state, "bursts");
  const badges: Record<string, ReactNode> = {
    "/queue":
      queue && queue.dlq > 0 ? (
        <span className="badge critical" title="messages in the dead-letter queue">
          {count(queue.dlq)}
        </span>
      ) : null,
    "/flash-sale": bursts?.active ? <span className="badge info">running</span> : null,
    "/workers": fleet ? (
      <span className="badge" title="running / desired tasks">
        {fleet.running}/{fleet.desiredCount}
      </span>
    ) : null,
  };
  return (
    <nav className="nav" aria-label="Console">
      <ul>
        {NAV.map((item) => {
          const current = item.href === "/" ? pathname === "/" : pathname.startsWith(item.href);
          return (
            <li key={item.href}>
              <Link href={item.href} aria-current={current ? "page" : undefined}>
                <span>{item.label}</span>
                {badges[item.href]}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** Says loudly when the numbers on screen are not live, and since when. */
function UpstreamBanner({ apiUrl, reachableAtRender }: { apiUrl: string; reachableAtRender: boolean }) {
  const { status, connection, state, lastTickAt } = useLive();
  const now = useNow();
  const faults = pick(state, "faults");
  const gameDay =
    faults && (faults.paymentOutage || faults.paymentFailureRate !== null) ? (
      <div className="banner warning" role="status">
        <strong>Fault injection in force:</strong>{" "}
        {faults.paymentOutage && `payment processor outage, ${seconds(faults.paymentOutageRemainingSeconds)} left. `}
        {faults.paymentFailureRate !== null &&
          `payments declined at ${Math.round(faults.paymentFailureRate * 1000) / 10}%.`}
      </div>
    ) : null;
  if (connection === "reconnecting") {
    return (
      <div className="banner" role="alert">
        Lost the console&apos;s live stream — reconnecting. Figures below are as of{" "}
        {lastTickAt ? clock(lastTickAt) : "the last update"}.
      </div>
    );
  }
  if (status?.state === "down" || (!status && !reachableAtRender)) {
    return (
      <div className="banner" role="alert">
        <strong>The API at {apiUrl} is not answering</strong>
        {status?.error ? `: ${status.error}` : ""}.{" "}
        {lastTickAt ? `Figures below are from ${clock(lastTickAt)} (${ago(lastTickAt, now)}).` : "No figures yet."}{" "}
        Retrying.
      </div>
    );
  }
  return gameDay;
}
