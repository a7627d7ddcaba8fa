import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Shell } from "../../components/Shell";
import { env } from "../../env";
import { sessionFromCookies } from "../../server/guard";
import { hub } from "../../server/hub";
import { ApiUnavailableError, whoami } from "../../server/surge-api";

export const dynamic = "force-dynamic";

/**
 * Every console page: signed in or sent to sign-in. The token is re-checked
 * against the API (cached a few seconds); an unreachable API still renders the
 * console — that is when on-call needs it — with the outage shown.
 */
export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const jar = await cookies();
  const session = sessionFromCookies((name) => jar.get(name)?.value);
  if (!session) redirect("/sign-in");
  let apiReachable = true;
  try {
    if (!(await whoami(session.token))) redirect("/sign-in?error=expired");
  } catch (error) {
    if (!(error instanceof ApiUnavailableError)) throw error;
    apiReachable = false;
  }
  const { GRAFANA_URL, PROMETHEUS_URL, SURGE_API_URL } = env();
  return (
    <Shell
      session={{ label: session.label, role: session.role, csrf: session.csrf }}
      grafanaUrl={GRAFANA_URL ?? null}
      prometheusUrl={PROMETHEUS_URL ?? null}
      apiUrl={SURGE_API_URL}
      apiReachable={apiReachable}
      // The hub's latest snapshot, rendered into the first paint: live figures before any script runs.
      // Only a fresh one: a stale snapshot painted as live would be worse than a second of "—".
      initialState={hub().freshLatest() ?? null}
    >
      {children}
    </Shell>
  );
}
