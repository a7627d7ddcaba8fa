/**
 * Runs once when the console server starts (Node.js runtime only): see
 * `server/startup.ts`. Kept apart so the Edge build never sees Node APIs.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startConsoleServer } = await import("./server/startup");
    startConsoleServer();
  }
}
