/**
 * The API's defences against hostile clients that are not about one request's content:
 * response headers a browser enforces, and per-client rate limits on order intake and the ops plane.
 */
import type { Request, RequestHandler } from "express";

/**
 * Helmet's defaults, narrowed for a JSON API that no browser should ever render, frame or
 * cache: nothing here serves HTML, so the CSP allows nothing at all.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "no-referrer",
  // Browsers ignore it over plain HTTP; behind the ALB's TLS listener it pins HTTPS.
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "DENY",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0",
};

/** Sets the security headers on every answer; order views and ops state are never cached by anyone. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  res.setHeader("cache-control", "no-store");
  next();
};

export interface RateLimit {
  /** Sustained requests per second per client. 0 disables the limit. */
  perSecond: number;
  /** Requests a client may send at once after being idle (the bucket's size). */
  burst: number;
}

export interface RateLimiterOptions extends RateLimit {
  /** Clients tracked at once; idle (full) buckets are dropped first, then the least recently used. Default 10000. */
  maxClients?: number;
  /** Default Date.now. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * One token bucket per client: `burst` tokens, refilled at `perSecond`. Memory is bounded by
 * `maxClients`, so a flood from many addresses cannot grow the map without end.
 */
export class TokenBucketLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #options: Required<Omit<RateLimiterOptions, "now">> & { now: () => number };

  constructor(options: RateLimiterOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(
        `rate limit needs perSecond > 0 and burst >= 1 (got ${options.perSecond}, ${options.burst})`,
      );
    }
    this.#options = { maxClients: 10_000, now: Date.now, ...options };
  }

  get clients(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `key`: 0 when allowed, otherwise the seconds until a token is available. */
  take(key: string): number {
    const { perSecond, burst, now } = this.#options;
    const nowMs = now();
    const existing = this.#buckets.get(key);
    const bucket = existing ?? { tokens: burst, updatedMs: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * perSecond);
    bucket.updatedMs = nowMs;
    // Re-inserting keeps the map in least-recently-used order for eviction.
    if (existing) this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (!existing && this.#buckets.size > this.#options.maxClients) this.#evict(nowMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / perSecond;
  }

  #evict(nowMs: number): void {
    const { perSecond, burst, maxClients } = this.#options;
    for (const [key, b] of this.#buckets) {
      if (this.#buckets.size <= maxClients) return;
      // A bucket that has refilled holds no information: dropping it changes nothing.
      if (b.tokens + ((nowMs - b.updatedMs) / 1000) * perSecond >= burst) this.#buckets.delete(key);
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= maxClients) return;
      this.#buckets.delete(key);
    }
  }
}

/**
 * Express middleware: `429 {error}` with `Retry-After` (whole seconds, at least 1) once a client
 * has used its bucket. The client is `req.ip`, which honours `trust proxy` (TRUST_PROXY): behind a
 * load balancer it must trust the balancer, or every customer shares the balancer's address.
 */
export function rateLimit(
  name: string,
  limit: RateLimiterOptions,
  clientOf: (req: Request) => string = (req) => req.ip ?? req.socket.remoteAddress ?? "unknown",
): RequestHandler {
  if (limit.perSecond === 0) return (_req, _res, next) => next();
  const limiter = new TokenBucketLimiter(limit);
  return (req, res, next) => {
    const waitSeconds = limiter.take(clientOf(req));
    if (waitSeconds === 0) {
      next();
      return;
    }
    const retryAfter = Math.max(1, Math.ceil(waitSeconds));
    res
      .status(429)
      .set("retry-after", String(retryAfter))
      .json({
        error: `rate limit exceeded: ${name} allows ${limit.perSecond} requests/s per client (bursts of ${limit.burst}); retry in ${retryAfter} s`,
      });
  };
}
