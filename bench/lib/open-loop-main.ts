// The open-loop generator's process (bench/lib/open-loop.ts starts it): runs what the parent asks, one at a time.
import { errorMessage } from "@surge/core";
import { type OpenLoopRun, runOpenLoop } from "./open-loop.js";

process.on("message", (message: { id: number; run: OpenLoopRun }) => {
  runOpenLoop(message.run).then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) => process.send?.({ id: message.id, error: errorMessage(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true });
