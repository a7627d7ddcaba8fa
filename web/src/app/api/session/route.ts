import { env } from "../../../env";
import { cookieSecure, crossSiteProblem, jsonError, sealer, sessionCookie } from "../../../server/guard";
import { ApiUnavailableError, whoami } from "../../../server/surge-api";
import { SignInThrottle } from "../../../server/throttle";

export const dynamic = "force-dynamic";

const throttle = new SignInThrottle({ maxFailures: 10, windowMs: 60_000 });

/** Only paths on this console; never `//host` or an absolute URL (no open redirect). */
function safeNext(value: unknown): string {
  return typeof value === "string" && /^\/(?![/\\])[\w\-/?=&%.]*$/.test(value) ? value : "/";
}

function redirect(to: string, cookies: string[] = []): Response {
  const headers = new Headers({ location: to, "cache-control": "no-store" });
  for (const c of cookies) headers.append("set-cookie", c);
  return new Response(null, { status: 303, headers });
}

/**
 * Sign in: the token in a form or JSON body, checked with the API's `/ops/whoami`, then kept only
 * in the sealed cookie. Never in a URL: errors redirect with an error code alone.
 */
export async function POST(request: Request): Promise<Response> {
  const form = !(request.headers.get("content-type") ?? "").includes("application/json");
  const fail = (status: number, code: string, message: string, next = "/") =>
    form
      ? redirect(`/sign-in?error=${code}${next !== "/" ? `&next=${encodeURIComponent(next)}` : ""}`)
      : jsonError(status, message, { code });

  const crossSite = crossSiteProblem(request);
  if (crossSite) return jsonError(403, crossSite);

  let token = "";
  let next = "/";
  try {
    if (form) {
      const data = await request.formData();
      token = String(data.get("token") ?? "");
      next = safeNext(data.get("next"));
    } else {
      const body = (await request.json()) as { token?: unknown; next?: unknown };
      token = typeof body.token === "string" ? body.token : "";
      next = safeNext(body.next);
    }
  } catch {
    return fail(400, "bad-request", "send the token as a form field or JSON {token}");
  }
  token = token.trim();
  if (token.length === 0 || token.length > 4096) return fail(400, "missing", "enter the operator token", next);

  const client = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() || "local";
  if (throttle.blocked(client)) {
    return fail(429, "throttled", "too many failed sign-ins: wait a minute", next);
  }

  let who: Awaited<ReturnType<typeof whoami>>;
  try {
    who = await whoami(token, { fresh: true });
  } catch (error) {
    if (error instanceof ApiUnavailableError) return fail(502, "unreachable", error.message, next);
    throw error;
  }
  if (!who) {
    throttle.failed(client);
    return fail(401, "refused", "the API refused that token", next);
  }

  const ttlMs = env().SESSION_TTL_HOURS * 3600 * 1000;
  const session = sealer().create({ token, label: who.label, role: who.role, ttlMs });
  const cookie = sessionCookie(sealer().seal(session), ttlMs / 1000, cookieSecure(request.headers));
  if (form) return redirect(next, [cookie]);
  return Response.json(
    { label: who.label, role: who.role },
    { headers: { "set-cookie": cookie, "cache-control": "no-store" } },
  );
}
