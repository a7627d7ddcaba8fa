import { jsonError, sessionFromRequest } from "../../../server/guard";
import { hub } from "../../../server/hub";
import { ApiUnavailableError, whoami } from "../../../server/surge-api";

export const dynamic = "force-dynamic";

const HEARTBEAT_MS = 15_000;
const RECHECK_MS = 30_000;

/**
 * The browser's live feed through the hub: `init` with the last hour, then a `tick` a second.
 * The token is re-checked every 30 s, so one revoked at the API ends the stream (`signed-out`).
 */
export async function GET(request: Request): Promise<Response> {
  const session = sessionFromRequest(request);
  if (!session) return jsonError(401, "not signed in", { signedOut: true });
  try {
    if (!(await whoami(session.token)))
      return jsonError(401, "the API no longer accepts this token", { signedOut: true });
  } catch (error) {
    // The API being down is exactly when on-call needs the console: stream the hub's status instead.
    if (!(error instanceof ApiUnavailableError)) throw error;
  }

  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const unsubscribe = hub().subscribe(session.token, send);
      const heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
      const end = (why: string) => {
        if (closed) return; // the browser left first (a late answer to the recheck)
        send(`event: signed-out\ndata: ${JSON.stringify({ error: why })}\n\n`);
        cleanup();
        controller.close();
      };
      const recheck = setInterval(() => {
        // Signed out elsewhere (the cookie's sign-in revoked) or the token revoked at the API.
        if (!sessionFromRequest(request)) return end("signed out");
        whoami(session.token)
          .then((who) => {
            if (!who) end("the API no longer accepts this token");
          })
          .catch(() => {});
      }, RECHECK_MS);
      cleanup = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearInterval(recheck);
        unsubscribe();
      };
      request.signal.addEventListener("abort", () => cleanup());
    },
    cancel() {
      cleanup();
    },
  });

  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: keeps Next's gzip (and any proxy) from buffering the stream.
      "cache-control": "no-store, no-transform",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    },
  });
}
