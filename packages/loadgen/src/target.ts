import { Pool } from "undici";
import type { BurstMode } from "./spec.js";

/** Where a burst places its orders. The engine measures the time; the target only answers. */
export interface OrderTarget {
  /** POSTs one order body to `/orders/{mode}`; resolves with the HTTP status once the answer is read. */
  placeOrder(mode: BurstMode, body: string, signal: AbortSignal): Promise<{ status: number }>;
  close(): Promise<void>;
}

interface HttpOrderTargetOptions {
  /** How long an idle keep-alive connection is kept for the next request, in ms. Default 30000. */
  keepAliveTimeoutMs?: number;
  /** Sent as `user-agent`, so the API's logs can tell burst traffic apart. Default `surge-burst`. */
  userAgent?: string;
  /**
   * Most connections open at once; a request finding them all busy waits client-side (an
   * arrival-rate burst counts that wait in its latency, from the scheduled arrival). Default: no
   * cap. A benchmark caps it: thousands of connections opened at once after a stall overflow
   * the server's listen queue, and each dropped SYN costs its request a 1 s retransmit.
   */
  connections?: number;
}

/**
 * The API over HTTP through one undici keep-alive Pool. Connections are not
 * capped unless `connections` says so: the burst itself bounds what is in flight (its users, or its
 * maxInFlight), so each Locust user effectively keeps its own connection, as a
 * Locust FastHttpUser (the study's, flash-sale-report.txt:2878) keeps its own, and no request waits client-side for a socket.
 */
export class HttpOrderTarget implements OrderTarget {
  readonly #pool: Pool;
  readonly #pathPrefix: string;
  readonly #headers: Record<string, string>;

  constructor(
    readonly baseUrl: string,
    options: HttpOrderTargetOptions = {},
  ) {
    const url = new URL(baseUrl);
    this.#pathPrefix = url.pathname.replace(/\/+$/, "");
    this.#headers = { "content-type": "application/json", "user-agent": options.userAgent ?? "surge-burst" };
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? null,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      keepAliveMaxTimeout: 600_000,
    });
  }

  async placeOrder(mode: BurstMode, body: string, signal: AbortSignal): Promise<{ status: number }> {
    const response = await this.#pool.request({
      method: "POST",
      path: `${this.#pathPrefix}/orders/${mode}`,
      headers: this.#headers,
      body,
      signal,
    });
    // The answer must be read (here: discarded) before the connection can be reused.
    await response.body.dump();
    return { status: response.statusCode };
  }

  async close(): Promise<void> {
    // destroy, not close: requests aborted by a stop must not hold the pool open.
    await this.#pool.destroy();
  }
}
