import { env } from "../env";
import { hub } from "./hub";

/**
 * Start-up: parse the configuration — a bad value stops the server with a
 * message naming the variable — and, when the console has its own token,
 * start recording the live timeline before anyone opens a page.
 */
export function startConsoleServer(): void {
  try {
    env();
  } catch (error) {
    console.error(`surge console: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  hub();
}
