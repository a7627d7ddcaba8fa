"use client";

import { useEffect } from "react";

/** A page that threw: say so, keep the shell (nav, live status) usable, offer a retry. */
export default function ConsoleError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.warn("console page failed", error.digest ?? error.message);
  }, [error]);
  return (
    <div className="state error" role="alert">
      <strong>This page failed to render.</strong>
      <p>{error.message || "An unexpected error."}</p>
      {error.digest && <p className="faint small">Reference: {error.digest} (in the console server&apos;s log)</p>}
      <button type="button" onClick={reset}>
        Retry
      </button>
    </div>
  );
}
