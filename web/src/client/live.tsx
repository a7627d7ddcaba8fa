"use client";

import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from "react";
import type { OpsSnapshot } from "../lib/ops";
import { type Marker, Timeline, type TimelineColumns } from "../lib/timeline";
import type { HubMessage, UpstreamStatus } from "../server/hub";

/** The browser's side of the live feed: is the console server's stream open? */
export type Connection = "connecting" | "open" | "reconnecting";

interface LiveView {
  state: OpsSnapshot | undefined;
  status: UpstreamStatus | undefined;
  connection: Connection;
  markers: Marker[];
  /** When the last snapshot reached this browser (its clock), for "live" vs "stalled". */
  lastTickAt: number | undefined;
  /** Bumped on every change; components that only need "something changed" watch this. */
  version: number;
}

/**
 * One EventSource for the whole console, kept across navigations, feeding one Timeline.
 * Components read `useLive()` (once a second); the chart reads the Timeline outside React.
 */
class LiveStore {
  timeline = new Timeline(3600);
  #view: LiveView = {
    state: undefined,
    status: undefined,
    connection: "connecting",
    markers: [],
    lastTickAt: undefined,
    version: 0,
  };
  readonly #listeners = new Set<() => void>();
  #source: EventSource | undefined;
  #retryTimer: number | undefined;
  #retryMs = 1000;
  #closed = false;

  /** `initial`: the snapshot the server rendered the page with, shown until the stream's first event. */
  constructor(initial?: OpsSnapshot) {
    if (initial) this.#view = { ...this.#view, state: initial };
  }

  get view(): LiveView {
    return this.#view;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getView = (): LiveView => this.#view;

  #update(patch: Partial<LiveView>): void {
    this.#view = { ...this.#view, ...patch, version: this.#view.version + 1 };
    for (const listener of this.#listeners) listener();
  }

  /** Applies one message from the stream (exported for the benchmark and tests). */
  apply(message: HubMessage): void {
    if (message.type === "init") {
      if (this.timeline.capacity !== message.capacitySeconds) this.timeline = new Timeline(message.capacitySeconds);
      else this.timeline.clear();
      this.timeline.appendColumns(message.columns);
      this.#update({
        state: message.state ?? undefined,
        status: message.status,
        markers: message.markers,
        ...(message.state && { lastTickAt: Date.now() }),
      });
    } else if (message.type === "tick") {
      if (message.columns.t.length > 0) this.timeline.appendColumns(message.columns as TimelineColumns);
      this.#update({
        state: message.state,
        ...(message.columns.t.length > 0 && { lastTickAt: Date.now() }),
        ...(message.markers && { markers: message.markers }),
      });
    } else {
      this.#update({ status: message.status });
    }
  }

  connect(url = "/api/stream"): void {
    if (this.#closed || typeof EventSource === "undefined") return;
    const source = new EventSource(url, { withCredentials: true });
    this.#source = source;
    const handle = (event: MessageEvent<string>) => {
      try {
        this.apply(JSON.parse(event.data) as HubMessage);
      } catch {
        // A malformed event is dropped; the next tick carries the full state again.
      }
    };
    source.addEventListener("init", (e) => {
      this.#retryMs = 1000;
      this.#update({ connection: "open" });
      handle(e as MessageEvent<string>);
    });
    source.addEventListener("tick", (e) => handle(e as MessageEvent<string>));
    source.addEventListener("status", (e) => handle(e as MessageEvent<string>));
    source.addEventListener("signed-out", () => {
      source.close();
      window.location.assign("/sign-in?error=expired");
    });
    source.onerror = () => {
      // EventSource retries by itself after a network drop, but not after an HTTP error (401, 502):
      // then it is CLOSED, and whether the sign-in is still good decides what happens next.
      this.#update({ connection: "reconnecting" });
      if (source.readyState !== EventSource.CLOSED) return;
      source.close();
      void fetch("/api/ops/whoami", { cache: "no-store" })
        .then((res) => {
          if (res.status === 401) window.location.assign("/sign-in?error=expired");
        })
        .catch(() => {});
      this.#retryTimer = window.setTimeout(() => this.connect(url), this.#retryMs);
      this.#retryMs = Math.min(15_000, this.#retryMs * 2);
    };
  }

  close(): void {
    this.#closed = true;
    window.clearTimeout(this.#retryTimer);
    this.#source?.close();
  }
}

const LiveContext = createContext<LiveStore | null>(null);

export function LiveProvider({ children, initialState }: { children: ReactNode; initialState?: OpsSnapshot | null }) {
  // Created once: a later render (the layout's snapshot is only the first paint's) must not reconnect the stream.
  const [store] = useState(() => new LiveStore(initialState ?? undefined));
  useEffect(() => {
    store.connect();
    return () => store.close();
  }, [store]);
  return <LiveContext.Provider value={store}>{children}</LiveContext.Provider>;
}

export function useLiveStore(): LiveStore {
  const store = useContext(LiveContext);
  if (!store) throw new Error("useLiveStore outside <LiveProvider>");
  return store;
}

/** The latest snapshot, upstream status and markers; re-renders on every tick. */
export function useLive(): LiveView {
  const store = useLiveStore();
  return useSyncExternalStore(store.subscribe, store.getView, store.getView);
}
