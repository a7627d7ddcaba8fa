// express-rate-limit's own MemoryStore counts fixed windows and holds every address seen in one, so
// the limiter keeps its token-bucket store: a sustained rate plus a burst, with a bounded client map.
import type { Request, RequestHandler } from "express";
import {
  type AugmentedRequest,
  type ClientRateLimitInfo,
  rateLimit as expressRateLimit,
  ipKeyGenerator,
  type Store,
} from "express-rate-limit";
import helmet from "helmet";

const helmetHeaders = helmet({
  // Nothing here serves HTML, so the CSP allows nothing at all, and nothing may frame it.
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
  xFrameOptions: { action: "deny" },
});

/** Helmet's headers for a JSON API no browser should render or frame; nobody caches an answer. */
export const securityHeaders: RequestHandler = (req, res, next) => {
  res.setHeader("cache-control", "no-store");
  helmetHeaders(req, res, next);
};

export interface RateLimit {
  /** Sustained requests per second per client. 0 disables the limit. */
  perSecond: number;
  /** Requests a client may send at once after being idle (the bucket's size). */
  burst: number;
}

interface RateLimiterOptions extends RateLimit {
  /** Clients tracked at once; idle (full) buckets are dropped first, then the least recently used. Default 10000. */
  maxClients?: number;
  /** Default Date.now. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** One token bucket per client; at most `maxClients`, so a flood from many addresses stays bounded. */
export class TokenBucketStore implements Store {
  readonly localKeys = true;
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

  /** The library's view: a refused request counts `burst + 1` hits and resets when a token is back. */
  async increment(key: string): Promise<ClientRateLimitInfo> {
    const waitSeconds = this.take(key);
    const { burst, now } = this.#options;
    return waitSeconds === 0
      ? { totalHits: 1, resetTime: undefined }
      : { totalHits: burst + 1, resetTime: new Date(now() + waitSeconds * 1000) };
  }

  async decrement(key: string): Promise<void> {
    const bucket = this.#buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.#options.burst, bucket.tokens + 1);
  }

  async resetKey(key: string): Promise<void> {
    this.#buckets.delete(key);
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
 * `429 {error}` with `Retry-After` (whole seconds, at least 1) once a client has used its bucket.
 * The client is `req.ip`, so behind a load balancer `trust proxy` (TRUST_PROXY) must trust it.
 */
export function rateLimit(name: string, limit: RateLimit): RequestHandler {
  if (limit.perSecond === 0) return (_req, _res, next) => next();
  return expressRateLimit({
    store: new TokenBucketStore(limit),
    limit: limit.burst,
    standardHeaders: false,
    legacyHeaders: false,
    // Per address, as before: no IPv6 subnet grouping.
    keyGenerator: (req: Request) => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? "unknown", false),
    handler: (req, res) => {
      const resetMs = (req as AugmentedRequest).rateLimit?.resetTime?.getTime() ?? Date.now();
      const retryAfter = Math.max(1, Math.ceil((resetMs - Date.now()) / 1000));
      res
        .status(429)
        .set("retry-after", String(retryAfter))
        .json({
          error: `rate limit exceeded: ${name} allows ${limit.perSecond} requests/s per client (bursts of ${limit.burst}); retry in ${retryAfter} s`,
        });
    },
  });
}
