import { env } from "../env";
import {
  activityMarker,
  burstMarkers,
  derivePoint,
  mergeMarkers,
  type RateMemory,
  snapshotMarkers,
} from "../lib/derive";
import { auditMarker } from "../lib/markers";
import type { AuditEntry, BurstSummary, OpsSnapshot, ScalingActivity } from "../lib/ops";
import { type Marker, Timeline, type TimelineColumns, type TimelinePoint } from "../lib/timeline";
import { opsFetch } from "./surge-api";

/**
 * The console server's one `/ops/stream` subscription with the last hour in memory, fanned out to
 * every browser (docs/console.md). Without SURGE_OPS_TOKEN it borrows a watching operator's token
 * and stops a minute after the last one leaves: a token is not used on behalf of someone gone.
 */

type UpstreamState = "idle" | "connecting" | "live" | "down";

export interface UpstreamStatus {
  state: UpstreamState;
  /** Since when, ms since the epoch. */
  since: number;
  /** Why it is down. */
  error?: string;
  /** When the last snapshot arrived. */
  lastEventAt?: number;
}

/** What a browser receives: everything once, then one tick a second. */
export type HubMessage =
  | {
      type: "init";
      capacitySeconds: number;
      columns: TimelineColumns;
      markers: Marker[];
      state: OpsSnapshot | null;
      status: UpstreamStatus;
    }
  | { type: "tick"; columns: TimelineColumns; state: OpsSnapshot; markers?: Marker[] }
  | { type: "status"; status: UpstreamStatus };

type Send = (message: string) => void;

interface Subscriber {
  token: string;
  send: Send;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** The API sends a snapshot every second: this long without one means the stream is stuck. */
const IDLE_TIMEOUT_MS = 10_000;
const ACTIVITY_POLL_MS = 3000;
const LINGER_AFTER_LAST_VIEWER_MS = 60_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

export class Hub {
  readonly timeline: Timeline;
  markers: Marker[] = [];
  latest: OpsSnapshot | undefined;
  status: UpstreamStatus = { state: "idle", since: Date.now() };

  readonly #ownToken: string | undefined;
  readonly #subscribers = new Map<number, Subscriber>();
  #nextId = 1;
  #rates: RateMemory | undefined;
  #badTokens = new Set<string>();
  #abort: AbortController | undefined;
  #running = false;
  #wake: (() => void) | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #activityTimer: NodeJS.Timeout | undefined;
  #seenBursts = false;
  #closed = false;

  constructor(options: { capacitySeconds: number; ownToken?: string | undefined }) {
    this.timeline = new Timeline(options.capacitySeconds);
    this.#ownToken = options.ownToken;
  }

  /** Starts recording now if the console has a token of its own. */
  start(): void {
    if (this.#ownToken) this.#ensureRunning();
  }

  /** A browser stream: gets `init` at once, then every tick, until it unsubscribes. */
  subscribe(token: string, send: Send): () => void {
    const id = this.#nextId++;
    this.#subscribers.set(id, { token, send });
    // A token that failed before may have been fixed (the API restarted with it): give it a chance.
    this.#badTokens.delete(token);
    if (this.#lingerTimer) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
    send(this.#encode(this.initMessage()));
    this.#ensureRunning();
    this.#wake?.();
    return () => {
      this.#subscribers.delete(id);
      if (this.#subscribers.size === 0 && !this.#ownToken) {
        this.#lingerTimer = setTimeout(() => {
          if (this.#subscribers.size === 0) this.#abort?.abort(new Error("nobody is watching"));
        }, LINGER_AFTER_LAST_VIEWER_MS);
        this.#lingerTimer.unref?.();
      }
    };
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** The latest snapshot if it is still live (younger than `maxAgeMs`), for the first paint; else undefined. */
  freshLatest(maxAgeMs = 5000): OpsSnapshot | undefined {
    const at = this.status.lastEventAt;
    return this.latest && at !== undefined && Date.now() - at <= maxAgeMs ? this.latest : undefined;
  }

  initMessage(): HubMessage {
    return {
      type: "init",
      capacitySeconds: this.timeline.capacity,
      columns: this.timeline.toColumns(),
      markers: this.markers,
      state: this.latest ?? null,
      status: this.status,
    };
  }

  close(): void {
    this.#closed = true;
    this.#abort?.abort(new Error("closing"));
    this.#wake?.();
    for (const timer of [this.#lingerTimer, this.#activityTimer]) if (timer) clearTimeout(timer);
  }

  /**
   * Takes one snapshot into the timeline (what every stream event does).
   * Public so tests and the benchmark can feed the hub without an API.
   */
  ingest(snapshot: OpsSnapshot): TimelinePoint {
    const { point, memory } = derivePoint(snapshot, this.#rates);
    this.#rates = memory;
    this.latest = snapshot;
    const before = this.timeline.lastTime;
    this.timeline.push(point);
    const markers = this.#mergeMarkers(snapshotMarkers(snapshot));
    const tick: HubMessage = {
      type: "tick",
      columns: this.timeline.toColumns(Number.isFinite(before) ? before : undefined),
      state: snapshot,
      ...(markers && { markers }),
    };
    this.#broadcast(tick);
    return point;
  }

  #mergeMarkers(incoming: Marker[]): Marker[] | undefined {
    const oldest = this.timeline.length > 0 ? this.timeline.timeAt(0) : Date.now() - this.timeline.capacity * 1000;
    const merged = mergeMarkers(this.markers, incoming, oldest - 1000);
    if (merged === this.markers) return undefined;
    this.markers = merged;
    return merged;
  }

  #setStatus(state: UpstreamState, error?: string): void {
    if (this.status.state === state && this.status.error === error) return;
    this.status = {
      state,
      since: Date.now(),
      ...(error && { error }),
      ...(this.status.lastEventAt !== undefined && { lastEventAt: this.status.lastEventAt }),
    };
    this.#broadcast({ type: "status", status: this.status });
  }

  #encode(message: HubMessage): string {
    return `event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`;
  }

  #broadcast(message: HubMessage): void {
    if (this.#subscribers.size === 0) return;
    const encoded = this.#encode(message);
    for (const [id, s] of this.#subscribers) {
      try {
        s.send(encoded);
      } catch {
        this.#subscribers.delete(id);
      }
    }
  }

  #token(): string | undefined {
    if (this.#ownToken && !this.#badTokens.has(this.#ownToken)) return this.#ownToken;
    for (const s of this.#subscribers.values()) if (!this.#badTokens.has(s.token)) return s.token;
    return undefined;
  }

  #ensureRunning(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    void this.#loop().finally(() => {
      this.#running = false;
    });
  }

  async #loop(): Promise<void> {
    let retryMs = RETRY_MIN_MS;
    while (!this.#closed) {
      const token = this.#token();
      if (!token || (!this.#ownToken && this.#subscribers.size === 0)) {
        // Viewers waiting while every token they brought was refused: that is an outage of its own, not idleness.
        if (!token && this.#subscribers.size > 0 && this.#badTokens.size > 0) {
          this.#setStatus("down", "the API refused the console's token (401)");
        } else {
          this.#setStatus("idle");
        }
        this.#stopPollers();
        if (!this.#ownToken && this.#subscribers.size === 0) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const outcome = await this.#streamOnce(token);
      if (this.#closed) return;
      if (outcome === "unauthorized") {
        this.#badTokens.add(token);
        this.#setStatus("down", "the API refused the console's token (401)");
        retryMs = RETRY_MIN_MS;
        continue;
      }
      if (outcome === "ended-normally") retryMs = RETRY_MIN_MS;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    }
  }

  async #streamOnce(token: string): Promise<"unauthorized" | "failed" | "ended-normally"> {
    const abort = new AbortController();
    this.#abort = abort;
    this.#setStatus("connecting");
    const connectTimer = setTimeout(() => abort.abort(new Error("connect timeout")), CONNECT_TIMEOUT_MS);
    let idleTimer: NodeJS.Timeout | undefined;
    const resetIdle = () => {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(
        () => abort.abort(new Error(`no snapshot for ${IDLE_TIMEOUT_MS / 1000} s`)),
        IDLE_TIMEOUT_MS,
      );
    };
    try {
      const res = await opsFetch(token, "/stream", {
        signal: abort.signal,
        timeoutMs: 2 ** 31 - 1,
        accept: "text/event-stream",
      });
      clearTimeout(connectTimer);
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        return "unauthorized";
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        this.#setStatus("down", `the API answered ${res.status} to /ops/stream`);
        return "failed";
      }
      resetIdle();
      this.#startPollers(token);
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary = buffer.search(/\r?\n\r?\n/);
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
          this.#onEvent(block);
          resetIdle();
          boundary = buffer.search(/\r?\n\r?\n/);
        }
      }
      this.#setStatus("down", "the API closed the stream");
      return "ended-normally";
    } catch (error) {
      const reason = abort.signal.aborted ? abort.signal.reason : error;
      const message = reason instanceof Error ? reason.message : String(reason);
      if (this.#subscribers.size === 0 && !this.#ownToken) this.#setStatus("idle");
      else this.#setStatus("down", message);
      return "failed";
    } finally {
      clearTimeout(connectTimer);
      if (idleTimer) clearTimeout(idleTimer);
      this.#stopPollers();
    }
  }

  #onEvent(block: string): void {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (event !== "state" || data.length === 0) return;
    let snapshot: OpsSnapshot;
    try {
      snapshot = JSON.parse(data.join("\n")) as OpsSnapshot;
    } catch {
      return;
    }
    this.status = { ...this.status, lastEventAt: Date.now() };
    if (this.status.state !== "live") this.#setStatus("live");
    this.ingest(snapshot);
  }

  #startPollers(token: string): void {
    this.#stopPollers();
    const pollActivities = async () => {
      try {
        const res = await opsFetch(token, "/scaling-activities?limit=100", { timeoutMs: 5000 });
        if (res.ok) {
          const body = (await res.json()) as { activities?: ScalingActivity[] };
          const markers = (body.activities ?? []).flatMap((a) => activityMarker(a) ?? []);
          // Routing, redrives and policy changes: the audit log says who.
          const audit = await opsFetch(token, "/audit?limit=100", { timeoutMs: 5000 });
          if (audit.ok) {
            const entries = ((await audit.json()) as { entries?: AuditEntry[] }).entries ?? [];
            markers.push(...entries.flatMap((e) => auditMarker(e) ?? []));
          } else {
            await audit.body?.cancel();
          }
          const merged = this.#mergeMarkers(markers);
          if (merged && this.latest)
            this.#broadcast({ type: "tick", columns: emptyColumns(), state: this.latest, markers: merged });
        } else {
          await res.body?.cancel();
        }
        if (!this.#seenBursts) {
          const bursts = await opsFetch(token, "/bursts?limit=20", { timeoutMs: 5000 });
          if (bursts.ok) {
            const body = (await bursts.json()) as { bursts?: BurstSummary[] };
            this.#mergeMarkers((body.bursts ?? []).flatMap(burstMarkers));
            this.#seenBursts = true;
          } else {
            await bursts.body?.cancel();
          }
        }
      } catch {
        // The stream's own status says when the API is down; a missed poll is retried.
      }
      this.#activityTimer = setTimeout(pollActivities, ACTIVITY_POLL_MS);
      this.#activityTimer.unref?.();
    };
    void pollActivities();
  }

  #stopPollers(): void {
    if (this.#activityTimer) clearTimeout(this.#activityTimer);
    this.#activityTimer = undefined;
  }
}

function emptyColumns(): TimelineColumns {
  return new Timeline(1).toColumns();
}

const KEY = Symbol.for("surge.console.hub");

/** The process's hub (one per console server, shared by every route bundle). */
export function hub(): Hub {
  const g = globalThis as { [KEY]?: Hub };
  if (!g[KEY]) {
    const { TIMELINE_SECONDS, SURGE_OPS_TOKEN } = env();
    g[KEY] = new Hub({ capacitySeconds: TIMELINE_SECONDS, ownToken: SURGE_OPS_TOKEN });
    g[KEY].start();
  }
  return g[KEY];
}
