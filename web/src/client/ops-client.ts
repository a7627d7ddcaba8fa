"use client";

/**
 * The browser's calls to the ops API, always through the console server
 * (`/api/ops/*`): the session cookie rides along by itself (same origin), and
 * every write carries the sign-in's CSRF token in a header.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

export class OpsError extends Error {
  override readonly name = "OpsError";
  constructor(
    message: string,
    readonly status: number,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
  }
  /** The API or the console server could not be reached. */
  get unavailable(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

let csrfToken = "";

/** Set once by the console shell from the server-rendered session. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

function signedOut(): void {
  const next = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`/sign-in?error=expired&next=${encodeURIComponent(next)}`);
}

async function parse<T>(res: Response): Promise<T> {
  const type = res.headers.get("content-type") ?? "";
  const body: unknown = type.includes("json") ? await res.json().catch(() => undefined) : await res.text();
  if (res.ok) return body as T;
  const b = (typeof body === "object" && body !== null ? body : {}) as {
    error?: string;
    details?: FieldProblem[];
    signedOut?: boolean;
  };
  if (res.status === 401 && b.signedOut) signedOut();
  const message = b.error ?? (typeof body === "string" && body.length > 0 ? body.slice(0, 300) : `HTTP ${res.status}`);
  throw new OpsError(message, res.status, Array.isArray(b.details) ? b.details : []);
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/ops${path}`, {
      method,
      headers: {
        accept: "application/json",
        ...(method !== "GET" && { "x-surge-csrf": csrfToken }),
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      credentials: "same-origin",
      cache: "no-store",
      ...(signal && { signal }),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new OpsError("the console server is unreachable", 0);
  }
  return parse<T>(res);
}

export const ops = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>("GET", path, undefined, signal),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  delete: <T>(path: string) => request<T>("DELETE", path),
};

/** A message for a failed call, naming the field when the API did. */
export function describeError(error: unknown): string {
  if (error instanceof OpsError) {
    const first = error.details[0];
    return first && !error.message.includes(first.message)
      ? `${error.message} (${first.field}: ${first.message})`
      : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
