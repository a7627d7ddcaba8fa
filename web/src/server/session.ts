import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The sign-in: the operator token itself in one httpOnly, SameSite=Strict cookie sealed with
 * AES-256-GCM, so there is no session store to lose (docs/console.md). Sign-out revokes its id.
 */
export interface Session {
  v: 1;
  /** Sign-in id, for revocation. */
  sid: string;
  /** The operator token (Authorization: Bearer) the API knows. */
  token: string;
  /** The token's label as the API reports it (the audit log's "who"). */
  label: string;
  role: "operator" | "read-only";
  /** The synchronizer token every mutation must echo in the `x-surge-csrf` header. */
  csrf: string;
  /** Issued and expiry times, ms since the epoch. */
  iat: number;
  exp: number;
}

const AAD = Buffer.from("surge-console-session-v1");
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SessionSealer {
  readonly #key: Buffer;
  /** Revoked sign-in ids and when they would have expired anyway. */
  readonly #revoked = new Map<string, number>();

  /** `secret`: SESSION_SECRET; absent, a random key (sign-ins last as long as this process). */
  constructor(secret?: string) {
    this.#key = secret ? createHash("sha256").update(secret).digest() : randomBytes(32);
  }

  create(input: { token: string; label: string; role: Session["role"]; ttlMs: number; nowMs?: number }): Session {
    const iat = input.nowMs ?? Date.now();
    return {
      v: 1,
      sid: randomBytes(16).toString("base64url"),
      token: input.token,
      label: input.label,
      role: input.role,
      csrf: randomBytes(24).toString("base64url"),
      iat,
      exp: iat + input.ttlMs,
    };
  }

  seal(session: Session): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(session), "utf8"), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** The session in a cookie value, or undefined when it is absent, forged, expired or signed out. */
  open(value: string | undefined, nowMs = Date.now()): Session | undefined {
    if (!value || value.length > 8192) return undefined;
    let raw: Buffer;
    try {
      raw = Buffer.from(value, "base64url");
    } catch {
      return undefined;
    }
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
    let session: Session;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      session = JSON.parse(plain.toString("utf8")) as Session;
    } catch {
      return undefined;
    }
    if (session.v !== 1 || typeof session.token !== "string" || typeof session.sid !== "string") return undefined;
    if (!(session.exp > nowMs)) return undefined;
    if (this.#revoked.has(session.sid)) return undefined;
    return session;
  }

  /** Signs a session out for good: its cookie, and any copy of it, no longer opens. */
  revoke(session: Pick<Session, "sid" | "exp">, nowMs = Date.now()): void {
    for (const [sid, exp] of this.#revoked) if (exp <= nowMs) this.#revoked.delete(sid);
    this.#revoked.set(session.sid, session.exp);
  }
}

/** Constant-time string comparison (CSRF tokens). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
