import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { crossSiteProblem, csrfProblem, parseCookies, sessionCookie } from "../src/server/guard";
import { allowedRoute, forwardedQuery } from "../src/server/routes";
import { SessionSealer } from "../src/server/session";

const req = (headers: Record<string, string>) =>
  new Request("http://127.0.0.1:3000/api/ops/fleet", {
    method: "PUT",
    headers: { host: "127.0.0.1:3000", ...headers },
  });

describe("cross-site protection", () => {
  it("accepts the console's own origin", () => {
    expect(crossSiteProblem(req({ origin: "http://127.0.0.1:3000", "sec-fetch-site": "same-origin" }))).toBeUndefined();
    expect(crossSiteProblem(req({ referer: "http://127.0.0.1:3000/workers" }))).toBeUndefined();
    // Chrome under a no-referrer policy: Origin null, but Fetch Metadata says same-origin.
    expect(crossSiteProblem(req({ origin: "null", "sec-fetch-site": "same-origin" }))).toBeUndefined();
  });

  it("refuses another origin, a cross-site fetch, and a request that says nothing", () => {
    expect(crossSiteProblem(req({ origin: "http://evil.example" }))).toMatch(/cross-origin/);
    expect(crossSiteProblem(req({ origin: "http://127.0.0.1:3000", "sec-fetch-site": "cross-site" }))).toMatch(
      /cross-site/,
    );
    expect(crossSiteProblem(req({ "sec-fetch-site": "same-site", origin: "http://127.0.0.1:3000" }))).toMatch(
      /same-site/,
    );
    expect(crossSiteProblem(req({ referer: "http://evil.example/x" }))).toMatch(/Referer/);
    expect(crossSiteProblem(req({}))).toMatch(/no Origin/);
    // A sandboxed page on another site says Origin: null and cross-site.
    expect(crossSiteProblem(req({ origin: "null", "sec-fetch-site": "cross-site" }))).toMatch(/cross-site/);
    expect(crossSiteProblem(req({ origin: "null" }))).toMatch(/Origin: null/);
  });

  it("needs the sign-in's CSRF token in the header", () => {
    const sealer = new SessionSealer();
    const session = sealer.create({ token: "t", label: "l", role: "operator", ttlMs: 60_000 });
    expect(csrfProblem(req({ "x-surge-csrf": session.csrf }), session)).toBeUndefined();
    expect(csrfProblem(req({}), session)).toMatch(/missing/);
    expect(csrfProblem(req({ "x-surge-csrf": "guess" }), session)).toMatch(/does not match/);
    expect(csrfProblem(req({}), session, session.csrf)).toBeUndefined();
  });

  it("sets the session cookie httpOnly, SameSite=Strict, and Secure with the __Host- prefix over https", () => {
    const plain = sessionCookie("v", 3600, false);
    expect(plain).toMatch(/^surge_session=v; /);
    expect(plain).toContain("HttpOnly");
    expect(plain).toContain("SameSite=Strict");
    expect(plain).not.toContain("Secure");
    const secure = sessionCookie("v", 3600, true);
    expect(secure).toMatch(/^__Host-surge_session=v; Path=\//);
    expect(secure).toContain("Secure");
    expect(secure).not.toContain("Domain");
  });

  it("parses a cookie header", () => {
    expect(parseCookies("a=1; surge_session=x%3Dy; b=2").get("surge_session")).toBe("x=y");
  });
});

describe("what the console forwards", () => {
  it("forwards the ops routes the pages use, and nothing else", () => {
    expect(allowedRoute("GET", "/state")).toBe(true);
    expect(allowedRoute("PUT", "/fleet")).toBe(true);
    expect(allowedRoute("DELETE", "/bursts/0195f0d2-aaaa-7bbb-8ccc-123456789abc")).toBe(true);
    expect(allowedRoute("POST", "/queue/purge")).toBe(true);
    expect(allowedRoute("DELETE", "/fleet")).toBe(false);
    expect(allowedRoute("POST", "/alerts")).toBe(false);
    expect(allowedRoute("GET", "/bursts/../../metrics")).toBe(false);
    expect(allowedRoute("GET", "/stream")).toBe(false);
  });

  it("forwards every ops call a page makes", () => {
    const src = fileURLToPath(new URL("../src", import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f));
    const call = /\b(?:ops\.(get|put|post|patch|delete)|useOps)(?:<[^(]*?>)?\(\s*[`"'](\/[^`"'?]*)/g;
    const calls: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(join(src, file), "utf8").matchAll(call)) {
        const path = (m[2] ?? "").replace(/\$\{[^}]*\}/g, "0195f0d2-aaaa-7bbb-8ccc-123456789abc");
        calls.push(`${(m[1] ?? "get").toUpperCase()} ${path} (${file})`);
      }
    }
    expect(calls.length).toBeGreaterThan(10);
    const refused = calls.filter((c) => {
      const [method = "", path = ""] = c.split(" ");
      return !allowedRoute(method, path);
    });
    expect(refused).toEqual([]);
  });

  it("keeps only known query parameters", () => {
    expect(forwardedQuery(new URLSearchParams("limit=5&evil=1&action=fleet."))).toBe("?limit=5&action=fleet.");
    expect(forwardedQuery(new URLSearchParams("x=1"))).toBe("");
  });
});
