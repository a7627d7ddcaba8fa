import { env } from "../env";
import { type Session, SessionSealer, safeEqual } from "./session";

/**
 * Who may do what: the session cookie, and the cross-site checks every mutation passes
 * (SameSite=Strict, own Origin, CSRF header: three independent layers, docs/console.md).
 */

const CSRF_HEADER = "x-surge-csrf";
const COOKIE_PLAIN = "surge_session";
/** `__Host-`: the browser only accepts it Secure, on path /, without a Domain — no subdomain can plant one. */
const COOKIE_HOST = "__Host-surge_session";

interface ConsoleServer {
  sealer: SessionSealer;
}

const KEY = Symbol.for("surge.console.server");

/**
 * One sealer per server process. Kept on globalThis because Next may load a
 * module once per route bundle: a revocation must be seen by every route.
 */
function server(): ConsoleServer {
  const g = globalThis as { [KEY]?: ConsoleServer };
  g[KEY] ??= { sealer: new SessionSealer(env().SESSION_SECRET) };
  return g[KEY];
}

export function sealer(): SessionSealer {
  return server().sealer;
}

/** The console's own origin, as the browser sees it. */
function ownOrigin(headers: Headers): string {
  const configured = env().CONSOLE_ORIGIN;
  if (configured) return configured;
  const host = headers.get("x-forwarded-host") ?? headers.get("host") ?? "";
  const proto = (headers.get("x-forwarded-proto") ?? "http").split(",")[0]?.trim() || "http";
  return `${proto}://${host}`;
}

export function cookieSecure(headers: Headers): boolean {
  const setting = env().COOKIE_SECURE;
  if (setting !== "auto") return setting === "true";
  return ownOrigin(headers).startsWith("https:");
}

function sessionCookieName(secure: boolean): string {
  return secure ? COOKIE_HOST : COOKIE_PLAIN;
}

/** Reads the cookie header (either cookie name) and opens the session. */
export function sessionFromCookies(get: (name: string) => string | undefined): Session | undefined {
  return sealer().open(get(COOKIE_HOST) ?? get(COOKIE_PLAIN));
}

export function sessionFromRequest(request: Request): Session | undefined {
  const cookies = parseCookies(request.headers.get("cookie") ?? "");
  return sessionFromCookies((name) => cookies.get(name));
}

export function parseCookies(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!out.has(name)) out.set(name, decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

/** `Set-Cookie` for a sign-in: httpOnly, SameSite=Strict, Path=/, Secure when the origin is https. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  const parts = [
    `${sessionCookieName(secure)}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

/** `Set-Cookie` headers that remove the sign-in under both names. */
export function clearedSessionCookies(secure: boolean): string[] {
  const expired = "Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
  return [`${COOKIE_PLAIN}=; ${expired}`, ...(secure ? [`${COOKIE_HOST}=; ${expired}; Secure`] : [])];
}

/**
 * The cross-site check for any state-changing request: the Origin (or, from
 * old browsers, the Referer) must be the console's own, and a Fetch Metadata
 * header, when the browser sends one, must say same-origin. Returns why not, or undefined.
 */
export function crossSiteProblem(request: Request): string | undefined {
  const expected = ownOrigin(request.headers);
  const site = request.headers.get("sec-fetch-site");
  if (site && site !== "same-origin") return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  // `Origin: null` (a privacy-sensitive context, a no-referrer policy) names no origin: judge by what else the browser says.
  const origin = request.headers.get("origin");
  if (origin && origin !== "null") {
    return origin === expected ? undefined : `cross-origin request refused (Origin: ${origin})`;
  }
  if (site === "same-origin") return undefined;
  const referer = request.headers.get("referer");
  if (referer) {
    try {
      return new URL(referer).origin === expected ? undefined : "cross-origin request refused (Referer)";
    } catch {
      return "cross-origin request refused (bad Referer)";
    }
  }
  return `request refused: no Origin header${origin === "null" ? " (Origin: null)" : ""}`;
}

/** The CSRF token check for a signed-in mutation. */
export function csrfProblem(request: Request, session: Session, fromForm?: string | null): string | undefined {
  const given = request.headers.get(CSRF_HEADER) ?? fromForm ?? "";
  if (!given) return `missing ${CSRF_HEADER} header`;
  return safeEqual(given, session.csrf) ? undefined : "CSRF token does not match this sign-in";
}

export function jsonError(status: number, error: string, extra: Record<string, unknown> = {}): Response {
  return Response.json({ error, ...extra }, { status, headers: { "cache-control": "no-store" } });
}
