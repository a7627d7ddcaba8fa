/**
 * Hostile requests to the control plane: every route under /ops/ (enumerated from the Express
 * router, so a new route cannot escape) refuses a missing or wrong token with 401 and a read-only
 * token's changes with 403; the operator is never refused for who they are. Also: security headers,
 * per-client rate limits with Retry-After, and burst targets locked to this API.
 */
import { validOrder } from "@surge/testing";
import type { Express } from "express";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ActivityLog } from "../src/autoscaling/activity-log.js";
import { BacklogSource } from "../src/autoscaling/backlog.js";
import { LocalAutoscaler } from "../src/autoscaling/local.js";
import { POLICY_DEFAULTS } from "../src/autoscaling/policy.js";
import { loadEnv } from "../src/env.js";
import { CachedFleet } from "../src/fleet/cache.js";
import { TokenBucketStore } from "../src/http/security.js";
import { ProcessingRouter } from "../src/lambda/processing.js";
import { AuditLog } from "../src/ops/audit.js";
import { autoscalingModule } from "../src/ops/modules/autoscaling.js";
import { burstsModule } from "../src/ops/modules/bursts.js";
import { fleetModule } from "../src/ops/modules/fleet.js";
import { lambdaModule } from "../src/ops/modules/lambda.js";
import type { OpsToken } from "../src/ops/router.js";
import { apiForAll, InstantFleet, OPS_TOKEN, postJson, silentLog } from "./helpers.js";

const READONLY_TOKEN = "test-readonly-token-abcdefghij";
const ALERTS_TOKEN = "test-alerts-token-abcdefghijkl";
const SECOND_OPERATOR_TOKEN = "test-second-operator-0123456789";

/**
 * Every route under /ops/ and what the operator sends it in this test: a body that is harmless
 * whether it is accepted or refused. A route missing here fails the first test: whoever adds one
 * adds its row, and with it the 401/403 checks.
 */
const ROUTES: Record<string, { body?: unknown; path?: string }> = {
  "GET /state": {},
  "GET /stream": {},
  "GET /audit": {},
  "GET /whoami": {},
  "GET /orders/reconcile": {},
  "GET /alerts": {},
  "POST /alerts": { body: { receiver: "test", status: "resolved", alerts: [] } },
  "POST /alerts/api/v2/alerts": { body: [] },
  "GET /faults": {},
  "PUT /faults": { body: { paymentOutageSeconds: 0 } },
  "GET /faults/publish": {},
  "PUT /faults/publish": { body: { outageSeconds: 0 } },
  "GET /intake": {},
  "PUT /intake": { body: { mode: "open" } },
  "GET /dlq": {},
  "POST /dlq/redrive": { body: { orderIds: [] } },
  "POST /queue/purge": { body: { confirm: "no" } },
  "GET /fleet": {},
  "PUT /fleet": { body: { concurrency: 5 } },
  "GET /autoscaling": {},
  "PUT /autoscaling": { body: { enabled: false } },
  "GET /scaling-activities": {},
  "POST /bursts": { body: { mode: "async", users: 0, spawnRate: 1, durationSeconds: 1 } },
  "GET /bursts": {},
  "GET /bursts/:id": { path: "/bursts/no-such-burst" },
  "PATCH /bursts/:id": { path: "/bursts/no-such-burst", body: { users: 1 } },
  "PUT /bursts/:id": { path: "/bursts/no-such-burst", body: { users: 1 } },
  "DELETE /bursts/:id": { path: "/bursts/no-such-burst" },
  "GET /lambda": {},
  "GET /processing": {},
  "PUT /processing": { body: { target: "workers" } },
  "GET /cost": {},
  "POST /cost": { body: { ordersPerMonth: 1000 } },
  "GET /cost/observed": {},
};

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
  rawPath?: unknown;
}

/** The routes of the router mounted at /ops, read from Express's own stack: `GET /state`, …. */
function opsRoutes(app: Express): string[] {
  const stack = (app as unknown as { router: { stack: RouteLayer[] } }).router.stack;
  const mounted = stack.filter((layer) => layer.rawPath === "/ops" && layer.handle?.stack);
  expect(mounted.length, "one router mounted at /ops").toBe(1);
  const routes: string[] = [];
  for (const layer of mounted[0]?.handle?.stack ?? []) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) {
      if (method !== "_all") routes.push(`${method.toUpperCase()} ${layer.route.path}`);
    }
  }
  return routes;
}

const isMutation = (method: string) => !["GET", "HEAD", "OPTIONS"].includes(method);

describe("the ops plane against hostile requests", () => {
  const ctx = apiForAll((store) => {
    // The tokens come from the environment exactly as the API process reads it.
    const env = loadEnv({
      OPS_TOKEN,
      ALERT_WEBHOOK_TOKEN: ALERTS_TOKEN,
      OPS_TOKENS: `second:${SECOND_OPERATOR_TOKEN}`,
      OPS_READONLY_TOKENS: ` viewer:${READONLY_TOKEN} , `,
    });
    const fleet = new CachedFleet(new InstantFleet(), 0);
    const activities = new ActivityLog(store);
    const backlog = new BacklogSource({ store });
    const autoscaler = new LocalAutoscaler({
      store,
      fleet,
      backlog,
      activities,
      audit: new AuditLog(store),
      log: silentLog,
      defaults: { ...POLICY_DEFAULTS, enabled: false, maxTasks: 10 },
      evaluationIntervalMs: 60_000,
    });
    const processing = new ProcessingRouter(store, { lambdaAvailable: false });
    return {
      opsTokens: env.opsTokens as OpsToken[],
      opsModules: [
        fleetModule({ fleet, autoscaler, activities, maxTasks: 10 }),
        autoscalingModule({
          autoscaler,
          fleet,
          backlog,
          maxTasks: 10,
          payment: { slots: 5, durationMs: 3000 },
          backlogCacheMs: 0,
        }),
        burstsModule({ ownBaseUrl: () => ctx.api.url }),
        lambdaModule({
          processing,
          deployment: { paymentDurationMs: 3000, paymentSlots: 5, lambdaMemoryMb: 512 },
          desiredTasks: async () => 1,
        }),
      ],
    };
  });

  /** One call; the SSE stream is cut once its head arrives. */
  async function call(route: string, authorization?: string) {
    const [method = "GET", template = "/"] = route.split(" ");
    const row = ROUTES[route] ?? {};
    const abort = new AbortController();
    const res = await fetch(`${ctx.api.url}/ops${row.path ?? template}`, {
      method,
      signal: abort.signal,
      headers: {
        ...(authorization !== undefined && { authorization }),
        ...(row.body !== undefined && { "content-type": "application/json" }),
      },
      ...(row.body !== undefined && { body: JSON.stringify(row.body) }),
    });
    const contentType = res.headers.get("content-type") ?? "";
    const body = contentType.startsWith("text/event-stream") ? "" : await res.text();
    abort.abort();
    return { status: res.status, body, headers: res.headers };
  }

  it("the table lists exactly the routes Express serves under /ops/", () => {
    const served = opsRoutes(ctx.api.api.app).sort();
    expect(served.length).toBeGreaterThan(20);
    expect(served).toEqual(Object.keys(ROUTES).sort());
  });

  it("every route: 401 without a token, with a wrong one, or with the token anywhere but the header", async () => {
    const near = `${OPS_TOKEN.slice(0, -1)}x`;
    for (const route of opsRoutes(ctx.api.api.app)) {
      for (const authorization of [
        undefined,
        "",
        "Bearer",
        `Bearer ${near}`,
        `Bearer ${OPS_TOKEN}x`,
        `Bearer ${OPS_TOKEN.slice(0, 16)}`,
        `Basic ${Buffer.from(`operator:${OPS_TOKEN}`).toString("base64")}`,
        `Token ${OPS_TOKEN}`,
        OPS_TOKEN,
      ]) {
        const res = await call(route, authorization);
        expect.soft(res.status, `${route} with ${JSON.stringify(authorization)}`).toBe(401);
        expect.soft(res.headers.get("www-authenticate"), route).toMatch(/^Bearer/);
        expect.soft(JSON.parse(res.body || "{}").error, route).toMatch(/token/);
      }
    }
    // A token in the query string is not a token.
    const query = await fetch(`${ctx.api.url}/ops/state?token=${OPS_TOKEN}&access_token=${OPS_TOKEN}`);
    expect(query.status).toBe(401);
  });

  it("every change: 403 for a read-only token (alert delivery excepted); every read: allowed", async () => {
    for (const route of opsRoutes(ctx.api.api.app)) {
      const method = route.split(" ")[0] ?? "";
      const alertIngest = route.startsWith("POST /alerts");
      for (const token of [READONLY_TOKEN, ALERTS_TOKEN]) {
        const res = await call(route, `Bearer ${token}`);
        const what = `${route} as ${token === READONLY_TOKEN ? "viewer" : "alerts"} → ${res.body.slice(0, 200)}`;
        if (isMutation(method) && !alertIngest) {
          expect.soft(res.status, what).toBe(403);
          expect.soft(JSON.parse(res.body).error, what).toMatch(/read-only/);
        } else {
          expect.soft([401, 403], what).not.toContain(res.status);
          expect.soft(res.status, what).toBeLessThan(500);
        }
      }
    }
    // Nothing a read-only token tried was done.
    const audit = await call("GET /audit", `Bearer ${OPS_TOKEN}`);
    const actors = (JSON.parse(audit.body).entries as Array<{ actor: string }>).map((e) => e.actor);
    expect(actors).not.toContain("viewer");
  });

  it("every route: the operators (OPS_TOKEN and a named OPS_TOKENS one) get 2xx or 4xx, never 401/403/5xx", async () => {
    for (const route of opsRoutes(ctx.api.api.app)) {
      for (const [label, token] of [
        ["operator", OPS_TOKEN],
        ["second", SECOND_OPERATOR_TOKEN],
      ] as const) {
        const res = await call(route, `bearer  ${token} `);
        const what = `${route} as ${label} → ${res.status} ${res.body.slice(0, 200)}`;
        expect.soft(res.status, what).toBeGreaterThanOrEqual(200);
        expect.soft(res.status, what).toBeLessThan(500);
        expect.soft([401, 403], what).not.toContain(res.status);
      }
    }
    const whoami = await call("GET /whoami", `Bearer ${SECOND_OPERATOR_TOKEN}`);
    expect(JSON.parse(whoami.body)).toEqual({ label: "second", role: "operator" });
    const viewer = await call("GET /whoami", `Bearer ${READONLY_TOKEN}`);
    expect(JSON.parse(viewer.body)).toEqual({ label: "viewer", role: "read-only" });
  });

  it("a burst can only target this API: any other URL is a 400 naming target, and nothing starts", async () => {
    const own = new URL(ctx.api.url);
    const tricky = [
      "http://example.com",
      `http://${own.host}.evil.example`,
      `http://evil.example/?${own.host}`,
      `http://${own.host}@evil.example`,
      `http://127.0.0.2:${own.port}`,
      `http://localhost:${Number(own.port) + 1}`,
      `https://${own.host}`,
      `http://[::1]:${own.port}`,
      `http://0.0.0.0:${own.port}`,
      `http://169.254.169.254/latest/meta-data`,
      `file:///etc/passwd`,
      `ftp://${own.host}`,
      `gopher://${own.host}`,
      `${ctx.api.url}/ops`,
      "not a url",
    ];
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...tricky), fc.webUrl({ withQueryParameters: true })), async (url) => {
        const res = await postJson(
          `${ctx.api.url}/ops/bursts`,
          { mode: "async", ratePerSecond: 1, durationSeconds: 1, target: url },
          { authorization: `Bearer ${OPS_TOKEN}` },
        );
        expect(res.status, `${url} → ${JSON.stringify(res.body)}`).toBe(400);
        expect((res.body.details as Array<{ field: string }>).map((d) => d.field)).toContain("target");
      }),
      { numRuns: 100 },
    );
    const list = await fetch(`${ctx.api.url}/ops/bursts`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(((await list.json()) as { bursts: unknown[] }).bursts).toEqual([]);
    expect(await ctx.t.store.reconcile()).toMatchObject({ accepted: 0 });
  });

  it("security headers on every kind of answer; no x-powered-by", async () => {
    const answers = [
      await fetch(`${ctx.api.url}/health`),
      await fetch(`${ctx.api.url}/metrics`),
      await fetch(`${ctx.api.url}/orders/not-an-id`),
      await fetch(`${ctx.api.url}/nowhere`),
      await fetch(`${ctx.api.url}/ops/state`),
      await fetch(`${ctx.api.url}/ops/state`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } }),
      await fetch(`${ctx.api.url}/orders/async`, { method: "POST", body: "x" }),
    ];
    for (const res of answers) {
      const what = `${res.url} ${res.status}`;
      expect.soft(res.headers.get("x-content-type-options"), what).toBe("nosniff");
      expect.soft(res.headers.get("x-frame-options"), what).toBe("DENY");
      expect
        .soft(res.headers.get("content-security-policy"), what)
        .toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect.soft(res.headers.get("referrer-policy"), what).toBe("no-referrer");
      expect.soft(res.headers.get("cross-origin-resource-policy"), what).toBe("same-origin");
      expect.soft(res.headers.get("strict-transport-security"), what).toMatch(/max-age=\d+/);
      expect.soft(res.headers.get("cache-control"), what).toBe("no-store");
      expect.soft(res.headers.get("x-powered-by"), what).toBeNull();
    }
  });
});

describe("per-client rate limits", () => {
  const ctx = apiForAll(() => ({
    // Slow refills, so no token comes back while a test is looking: one every 2 s, one every 5 s.
    rateLimits: { orders: { perSecond: 0.5, burst: 10 }, ops: { perSecond: 0.2, burst: 6 } },
  }));

  const order = (ip: string) =>
    postJson(`${ctx.api.url}/orders/async`, validOrder(), { "x-forwarded-for": ip }).then((r) => r);

  it("order intake: a client's burst passes, the next request is 429 with Retry-After; other clients and reads are unaffected", async () => {
    const first = await Promise.all(Array.from({ length: 10 }, () => order("203.0.113.1")));
    expect(first.map((r) => r.status)).toEqual(Array(10).fill(202));
    const limited = await order("203.0.113.1");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(String(limited.body.error)).toMatch(/rate limit exceeded: order intake allows 0.5 requests\/s/);
    // Another address has its own bucket; reading an order is not intake.
    expect((await order("203.0.113.2")).status).toBe(202);
    const id = String(first[0]?.body.orderId);
    expect((await fetch(`${ctx.api.url}/orders/${id}`, { headers: { "x-forwarded-for": "203.0.113.1" } })).status).toBe(
      200,
    );
    // A refused request was never recorded: 10 + 1 accepted.
    expect((await ctx.t.store.reconcile()).accepted).toBe(11);
    // After Retry-After, the client may order again.
    await new Promise((r) => setTimeout(r, Number(limited.headers.get("retry-after")) * 1000));
    expect((await order("203.0.113.1")).status).toBe(202);
  });

  it("ops plane: guessing tokens is limited before the token is even checked", async () => {
    const headers = { "x-forwarded-for": "198.51.100.7", authorization: "Bearer guess-0123456789abcdef" };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${ctx.api.url}/ops/state`, { headers })).status);
    expect(statuses.slice(0, 6)).toEqual(Array(6).fill(401));
    expect(statuses.slice(6)).toEqual([429, 429]);
    const ok = await fetch(`${ctx.api.url}/ops/state`, {
      headers: { "x-forwarded-for": "198.51.100.8", authorization: `Bearer ${OPS_TOKEN}` },
    });
    expect(ok.status).toBe(200);
  });
});

describe("token bucket", () => {
  it("refills at the rate, caps at the burst, and answers how long to wait", () => {
    let nowMs = 0;
    const limiter = new TokenBucketStore({ perSecond: 2, burst: 3, now: () => nowMs });
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBeCloseTo(0.5);
    nowMs = 500;
    expect(limiter.take("a")).toBe(0);
    nowMs = 60_000; // a long idle refills only to the burst
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBeGreaterThan(0);
  });

  it("tracks at most maxClients, dropping idle buckets first", () => {
    let nowMs = 0;
    const limiter = new TokenBucketStore({ perSecond: 1, burst: 2, maxClients: 100, now: () => nowMs });
    limiter.take("busy");
    limiter.take("busy");
    for (let i = 0; i < 10_000; i++) {
      nowMs += 1;
      limiter.take(`client-${i}`);
      expect(limiter.clients).toBeLessThanOrEqual(100);
    }
    expect(() => new TokenBucketStore({ perSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});

describe("operator tokens from the environment", () => {
  it("parses named and read-only tokens, and refuses bad ones without echoing them", () => {
    const env = loadEnv({
      OPS_TOKEN: "o".repeat(20),
      OPS_TOKENS: "alice:aaaaaaaaaaaaaaaaaaaa,bob:bbbbbbbbbbbbbbbbbbbb",
      OPS_READONLY_TOKENS: "dashboards:cccccccccccccccccccc",
    });
    expect(env.opsTokens.map((t) => [t.label, t.role])).toEqual([
      ["operator", "operator"],
      ["alice", "operator"],
      ["bob", "operator"],
      ["dashboards", "read-only"],
    ]);
    const secret = "short-secret";
    for (const [vars, message] of [
      [{ OPS_TOKENS: `alice:${secret}` }, /OPS_TOKENS: the token labelled "alice" must be at least 16/],
      [{ OPS_READONLY_TOKENS: `${"x".repeat(20)}` }, /OPS_READONLY_TOKENS: entry 1 needs label:token/],
      [{ OPS_TOKENS: `operator:${"y".repeat(20)}` }, /label "operator" is used twice/],
      [{ OPS_TOKENS: `a:${"z".repeat(20)}`, OPS_READONLY_TOKENS: `b:${"z".repeat(20)}` }, /labelled "b" is also/],
      [{ TRUST_PROXY: "10.0.0.0/99" }, /TRUST_PROXY/],
    ] as const) {
      let error: unknown;
      try {
        loadEnv({ OPS_TOKEN: "o".repeat(20), ...vars });
      } catch (e) {
        error = e;
      }
      expect(String(error)).toMatch(message);
      expect(String(error)).not.toContain(secret);
      expect(String(error)).not.toMatch(/x{20}|y{20}|z{20}/);
    }
    expect(loadEnv({ TRUST_PROXY: "10.0.0.0/16, 10.1.0.0/16" }).trustProxy).toBe("10.0.0.0/16, 10.1.0.0/16");
    expect(loadEnv({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
  });
});
