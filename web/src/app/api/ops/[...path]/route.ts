import { crossSiteProblem, csrfProblem, jsonError, sessionFromRequest } from "../../../../server/guard";
import { allowedRoute, forwardedQuery } from "../../../../server/routes";
import { ApiUnavailableError, opsFetch } from "../../../../server/surge-api";

export const dynamic = "force-dynamic";

const MAX_BODY_BYTES = 256 * 1024;
const PASSED_HEADERS = ["content-type", "content-disposition", "location", "www-authenticate"];

/**
 * `/api/ops/*` → the API's `/ops/*` with the session's token added server-side. Writes also pass
 * the cross-site checks and must be JSON, which no HTML form can send.
 */
async function forward(request: Request, context: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const { path: segments } = await context.params;
  const path = `/${segments.map(encodeURIComponent).join("/")}`;
  const method = request.method.toUpperCase();
  if (!allowedRoute(method, path)) return jsonError(404, `the console does not forward ${method} /ops${path}`);

  const session = sessionFromRequest(request);
  if (!session) return jsonError(401, "not signed in", { signedOut: true });

  let body: string | undefined;
  if (method !== "GET") {
    const problem = crossSiteProblem(request) ?? csrfProblem(request, session);
    if (problem) return jsonError(403, problem);
    let text: string;
    try {
      text = await request.text();
    } catch (error) {
      if (request.signal.aborted) return clientGone();
      throw error;
    }
    if (text.length > 0) {
      if (!(request.headers.get("content-type") ?? "").startsWith("application/json")) {
        return jsonError(415, "send JSON (content-type: application/json)");
      }
      if (Buffer.byteLength(text) > MAX_BODY_BYTES) return jsonError(413, "request body over 256 KiB");
      body = text;
    }
  }

  const query = forwardedQuery(new URL(request.url).searchParams);
  let upstream: Response;
  try {
    upstream = await opsFetch(session.token, `${path}${query}`, {
      method,
      ...(body !== undefined && { body }),
      signal: request.signal,
      accept: request.headers.get("accept") ?? "application/json",
    });
  } catch (error) {
    if (request.signal.aborted) return clientGone();
    if (error instanceof ApiUnavailableError) return jsonError(error.status, error.message, { unavailable: true });
    throw error;
  }
  if (upstream.status === 401) {
    await upstream.body?.cancel();
    return jsonError(401, "the API no longer accepts this sign-in's token: sign in again", { signedOut: true });
  }
  const headers = new Headers({ "cache-control": "no-store" });
  for (const name of PASSED_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, name === "location" ? value.replace(/^\/ops\//, "/api/ops/") : value);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}

/**
 * The browser left (a closed tab, a page changed mid-request): the upstream fetch was aborted with it.
 * A normal end, not an error: nobody reads this answer, and the log gets no stack trace.
 */
function clientGone(): Response {
  return new Response(null, { status: 499, headers: { "cache-control": "no-store" } });
}

export const GET = forward;
export const POST = forward;
export const PUT = forward;
export const PATCH = forward;
export const DELETE = forward;
