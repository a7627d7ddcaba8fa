"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { ops } from "./ops-client";

interface OpsResource<T> {
  data: T | undefined;
  error: unknown;
  /** True until the first answer (success or failure). */
  loading: boolean;
  /** When the data was last fetched, ms since the epoch. */
  fetchedAt: number | undefined;
  refresh: () => Promise<void>;
}

/**
 * GET an ops resource every `intervalMs` while the tab is visible (a hidden tab polls nothing).
 * A failed refresh keeps the last good data beside the error: stale numbers, flagged, beat none.
 */
export function useOps<T>(path: string | null, intervalMs = 0): OpsResource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(path !== null);
  const [fetchedAt, setFetchedAt] = useState<number>();
  const inflight = useRef<AbortController | undefined>(undefined);

  const refresh = useCallback(async () => {
    if (path === null) return;
    inflight.current?.abort();
    const controller = new AbortController();
    inflight.current = controller;
    try {
      const value = await ops.get<T>(path, controller.signal);
      if (controller.signal.aborted) return;
      setData(value);
      setError(undefined);
      setFetchedAt(Date.now());
    } catch (e) {
      if (controller.signal.aborted) return;
      setError(e);
    } finally {
      if (!controller.signal.aborted) setLoading(false);
    }
  }, [path]);

  useEffect(() => {
    if (path === null) return;
    setLoading(true);
    void refresh();
    let timer: number | undefined;
    const schedule = () => {
      if (intervalMs > 0) {
        timer = window.setTimeout(async () => {
          if (document.visibilityState === "visible") await refresh();
          schedule();
        }, intervalMs);
      }
    };
    schedule();
    const onVisible = () => {
      if (document.visibilityState === "visible") void refresh();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
      inflight.current?.abort();
    };
  }, [path, intervalMs, refresh]);

  return { data, error, loading, fetchedAt, refresh };
}
