import { describe, expect, it } from "vitest";
import { SessionSealer, safeEqual } from "../src/server/session";

const TTL = 3600_000;

describe("session cookie", () => {
  it("opens what it sealed, and the token is not readable in the cookie", () => {
    const sealer = new SessionSealer("a".repeat(40));
    const session = sealer.create({
      token: "super-secret-operator-token",
      label: "operator",
      role: "operator",
      ttlMs: TTL,
    });
    const cookie = sealer.seal(session);
    expect(cookie).not.toContain("super-secret");
    expect(Buffer.from(cookie, "base64url").toString("latin1")).not.toContain("super-secret");
    expect(sealer.open(cookie)).toEqual(session);
  });

  it("refuses a tampered cookie, one sealed under another key, garbage and nothing", () => {
    const sealer = new SessionSealer("a".repeat(40));
    const cookie = sealer.seal(sealer.create({ token: "t", label: "l", role: "operator", ttlMs: TTL }));
    const bytes = Buffer.from(cookie, "base64url");
    bytes[20] = (bytes[20] ?? 0) ^ 1;
    expect(sealer.open(bytes.toString("base64url"))).toBeUndefined();
    expect(new SessionSealer("b".repeat(40)).open(cookie)).toBeUndefined();
    expect(new SessionSealer().open(cookie)).toBeUndefined();
    expect(sealer.open("not-a-cookie")).toBeUndefined();
    expect(sealer.open(undefined)).toBeUndefined();
  });

  it("expires", () => {
    const sealer = new SessionSealer("a".repeat(40));
    const session = sealer.create({ token: "t", label: "l", role: "operator", ttlMs: 1000, nowMs: 0 });
    const cookie = sealer.seal(session);
    expect(sealer.open(cookie, 999)).toBeDefined();
    expect(sealer.open(cookie, 1000)).toBeUndefined();
  });

  it("after sign-out, refuses every copy of the cookie", () => {
    const sealer = new SessionSealer("a".repeat(40));
    const session = sealer.create({ token: "t", label: "l", role: "operator", ttlMs: TTL });
    const cookie = sealer.seal(session);
    const other = sealer.seal(sealer.create({ token: "t", label: "l", role: "operator", ttlMs: TTL }));
    sealer.revoke(session);
    expect(sealer.open(cookie)).toBeUndefined();
    expect(sealer.open(other)).toBeDefined();
  });

  it("gives every sign-in its own CSRF token", () => {
    const sealer = new SessionSealer();
    const a = sealer.create({ token: "t", label: "l", role: "operator", ttlMs: TTL });
    const b = sealer.create({ token: "t", label: "l", role: "operator", ttlMs: TTL });
    expect(a.csrf).not.toBe(b.csrf);
    expect(a.csrf.length).toBeGreaterThanOrEqual(32);
    expect(safeEqual(a.csrf, a.csrf)).toBe(true);
    expect(safeEqual(a.csrf, b.csrf)).toBe(false);
    expect(safeEqual(a.csrf, "")).toBe(false);
  });
});
