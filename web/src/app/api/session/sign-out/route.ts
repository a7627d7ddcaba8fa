import {
  clearedSessionCookies,
  cookieSecure,
  crossSiteProblem,
  csrfProblem,
  jsonError,
  sealer,
  sessionFromRequest,
} from "../../../../server/guard";

export const dynamic = "force-dynamic";

/**
 * Sign out: revokes this sign-in (a copy of the cookie no longer opens either)
 * and clears the cookie. A form post from the console's own pages: the Origin
 * must be the console's and the form carries the sign-in's CSRF token.
 */
export async function POST(request: Request): Promise<Response> {
  const crossSite = crossSiteProblem(request);
  if (crossSite) return jsonError(403, crossSite);
  const session = sessionFromRequest(request);
  if (session) {
    let formToken: string | null = null;
    if (!request.headers.get("x-surge-csrf")) {
      const data = await request.formData().catch(() => undefined);
      const value = data?.get("csrf");
      formToken = typeof value === "string" ? value : null;
    }
    const csrf = csrfProblem(request, session, formToken);
    if (csrf) return jsonError(403, csrf);
    sealer().revoke(session);
  }
  const headers = new Headers({ location: "/sign-in?signed-out=1", "cache-control": "no-store" });
  for (const cookie of clearedSessionCookies(cookieSecure(request.headers))) headers.append("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
}
