import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { sessionFromCookies } from "../../server/guard";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

const MESSAGES: Record<string, string> = {
  refused: "The API refused that token. Check OPS_TOKEN (npm start prints it).",
  unreachable: "The API is unreachable from the console server, so the token could not be checked.",
  missing: "Enter the operator token.",
  throttled: "Too many failed sign-ins from here. Wait a minute and try again.",
  expired: "Your sign-in ended (signed out, expired, or the token was revoked). Sign in again.",
  "bad-request": "The sign-in request was malformed.",
};

function safeNext(value: string | string[] | undefined): string {
  return typeof value === "string" && /^\/(?![/\\])/.test(value) ? value : "/";
}

/**
 * Sign-in: a plain HTML form posted to /api/session, so it works before (and
 * without) any JavaScript, and the token travels only in a POST body.
 */
export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const jar = await cookies();
  if (sessionFromCookies((name) => jar.get(name)?.value) && params.error !== "expired") redirect(safeNext(params.next));
  const error = typeof params.error === "string" ? (MESSAGES[params.error] ?? "Sign-in failed.") : undefined;
  const signedOut = params["signed-out"] !== undefined;
  return (
    <main className="signin">
      <form method="post" action="/api/session" className="panel">
        <h1 style={{ marginBottom: 4 }}>
          <span style={{ color: "var(--accent)" }}>⚡</span> Surge console
        </h1>
        <p className="muted">Fire, watch, scale and redrive the order pipeline.</p>
        {signedOut && !error && (
          <p className="banner info" role="status">
            You are signed out.
          </p>
        )}
        {error && (
          <p className="banner" role="alert" id="signin-error">
            {error}
          </p>
        )}
        <label className="field" style={{ margin: "16px 0" }}>
          <span>Operator token</span>
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            required
            // biome-ignore lint/a11y/noAutofocus: the page exists to take this one field
            autoFocus
            spellCheck={false}
            aria-describedby={error ? "signin-error token-help" : "token-help"}
          />
          <span className="help" id="token-help">
            OPS_TOKEN — printed by <code>npm start</code>. Kept in an httpOnly cookie on this console, never in the
            page.
          </span>
        </label>
        <input type="hidden" name="next" value={safeNext(params.next)} />
        <button type="submit" className="primary" style={{ width: "100%" }}>
          Sign in
        </button>
      </form>
    </main>
  );
}
