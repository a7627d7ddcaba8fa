import { COST_QUERY_KEYS } from "@surge/api/contract";

/**
 * The ops routes the browser may reach through the console, by method. The
 * console is not an open proxy to the API: anything not listed is a 404 here,
 * whatever the API would say.
 */
export interface OpsRoute {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  pattern: RegExp;
}

const ID = "[A-Za-z0-9_-]{1,64}";

export const OPS_ROUTES: ReadonlyArray<OpsRoute> = [
  { method: "GET", pattern: /^\/state$/ },
  { method: "GET", pattern: /^\/whoami$/ },
  { method: "GET", pattern: /^\/fleet$/ },
  { method: "PUT", pattern: /^\/fleet$/ },
  { method: "GET", pattern: /^\/autoscaling$/ },
  { method: "PUT", pattern: /^\/autoscaling$/ },
  { method: "GET", pattern: /^\/scaling-activities$/ },
  { method: "GET", pattern: /^\/bursts$/ },
  { method: "POST", pattern: /^\/bursts$/ },
  { method: "GET", pattern: new RegExp(`^/bursts/${ID}$`) },
  { method: "PATCH", pattern: new RegExp(`^/bursts/${ID}$`) },
  { method: "PUT", pattern: new RegExp(`^/bursts/${ID}$`) },
  { method: "DELETE", pattern: new RegExp(`^/bursts/${ID}$`) },
  { method: "GET", pattern: /^\/lambda$/ },
  { method: "GET", pattern: /^\/processing$/ },
  { method: "PUT", pattern: /^\/processing$/ },
  { method: "GET", pattern: /^\/cost$/ },
  { method: "POST", pattern: /^\/cost$/ },
  { method: "GET", pattern: /^\/cost\/observed$/ },
  { method: "GET", pattern: /^\/dlq$/ },
  { method: "POST", pattern: /^\/dlq\/redrive$/ },
  { method: "POST", pattern: /^\/queue\/purge$/ },
  { method: "GET", pattern: /^\/audit$/ },
  { method: "GET", pattern: /^\/alerts$/ },
  { method: "GET", pattern: /^\/orders\/reconcile$/ },
  { method: "GET", pattern: /^\/intake$/ },
  { method: "PUT", pattern: /^\/intake$/ },
  { method: "GET", pattern: /^\/schedules$/ },
  { method: "POST", pattern: /^\/schedules$/ },
  { method: "DELETE", pattern: new RegExp(`^/schedules/${ID}$`) },
];

/** Query parameters the pages use; others are dropped rather than forwarded. */
const QUERY_KEYS = new Set([
  "limit",
  "action",
  "actor",
  "format",
  // /lambda
  "windowMinutes",
  "binSeconds",
  "reports",
  "sinceMs",
  "untilMs",
  // /cost/observed
  "burstId",
  // /cost
  ...COST_QUERY_KEYS,
]);

export function allowedRoute(method: string, path: string): boolean {
  return OPS_ROUTES.some((r) => r.method === method && r.pattern.test(path));
}

export function forwardedQuery(search: URLSearchParams): string {
  const kept = new URLSearchParams();
  for (const [key, value] of search) if (QUERY_KEYS.has(key) && value.length <= 200) kept.append(key, value);
  const text = kept.toString();
  return text ? `?${text}` : "";
}
