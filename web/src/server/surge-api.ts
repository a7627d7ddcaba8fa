import { env } from "../env";
import type { Whoami } from "../lib/ops";

/**
 * The console server's only way to the API: the token goes in a header here and nowhere else, and
 * an unreachable API becomes a 502/504 naming its URL, so on-call knows what to check.
 */
export class ApiUnavailableError extends Error {
  override readonly name = "ApiUnavailableError";
  constructor(
    message: string,
    readonly status: 502 | 504,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export async function opsFetch(
  token: string,
  path: string,
  init: { method?: string; body?: string; signal?: AbortSignal; timeoutMs?: number; accept?: string } = {},
): Promise<Response> {
  const { SURGE_API_URL, API_TIMEOUT_MS } = env();
  const url = `${SURGE_API_URL}/ops${path}`;
  const timeout = AbortSignal.timeout(init.timeoutMs ?? API_TIMEOUT_MS);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  try {
    return await fetch(url, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        accept: init.accept ?? "application/json",
        ...(init.body !== undefined && { "content-type": "application/json" }),
      },
      ...(init.body !== undefined && { body: init.body }),
      signal,
      cache: "no-store",
      redirect: "manual",
    });
  } catch (error) {
    if (timeout.aborted) {
      throw new ApiUnavailableError(
        `the API at ${SURGE_API_URL} did not answer within ${init.timeoutMs ?? API_TIMEOUT_MS} ms`,
        504,
        {
          cause: error,
        },
      );
    }
    if (init.signal?.aborted) throw error;
    const code = (error as { cause?: { code?: string } }).cause?.code;
    throw new ApiUnavailableError(`the API at ${SURGE_API_URL} is unreachable${code ? ` (${code})` : ""}`, 502, {
      cause: error,
    });
  }
}

const whoamiCache = new Map<string, { atMs: number; who: Whoami | undefined }>();
const WHOAMI_TTL_MS = 10_000;

/**
 * Asks the API who a token belongs to: the identity, undefined when the API
 * refuses the token (401), or throws ApiUnavailableError. Answers are cached
 * for a few seconds: every page and stream re-checks its token this way, so
 * a token revoked at the API stops working in the console within seconds.
 */
export async function whoami(token: string, options: { fresh?: boolean } = {}): Promise<Whoami | undefined> {
  const cached = whoamiCache.get(token);
  if (!options.fresh && cached && Date.now() - cached.atMs < WHOAMI_TTL_MS) return cached.who;
  const res = await opsFetch(token, "/whoami", { timeoutMs: 5000 });
  let who: Whoami | undefined;
  if (res.status === 401 || res.status === 403) {
    who = undefined;
  } else if (res.ok) {
    const body = (await res.json()) as Partial<Whoami>;
    who = { label: String(body.label ?? "operator"), role: body.role === "read-only" ? "read-only" : "operator" };
  } else {
    throw new ApiUnavailableError(`the API answered ${res.status} to /ops/whoami`, 502);
  }
  if (whoamiCache.size > 100) whoamiCache.clear();
  whoamiCache.set(token, { atMs: Date.now(), who });
  return who;
}
