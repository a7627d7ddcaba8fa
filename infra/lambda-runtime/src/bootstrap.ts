/**
 * One execution environment's runtime interface client (argv: <handler module> <export name>):
 * loads the handler, says "ready", then runs one IPC invocation at a time.
 * Only Node built-ins: every byte here is in every cold start.
 */
import { pathToFileURL } from "node:url";

/** Node has run this long (ms since the process started) when the bootstrap's first line runs. */
const bootMs = performance.now();

interface InvokeMessage {
  type: "invoke";
  requestId: string;
  event: unknown;
  deadlineMs: number;
  functionName: string;
  memoryMb: number;
  logStream: string;
}

type Handler = (event: unknown, context: object) => unknown;

const send = (message: object) => {
  if (process.connected) process.send?.(message);
};

/** Reports a failed init and lets the process end (the IPC channel would otherwise keep it alive). */
const failInit = (errorType: string, errorMessage: string) => {
  process.exitCode = 1;
  if (!process.connected) return;
  process.send?.({ type: "init-error", errorType, errorMessage }, () => process.disconnect());
};

/** Peak resident memory of this environment, in MB, as Lambda's "Max Memory Used". */
const maxMemoryUsedMb = () => Math.ceil(process.resourceUsage().maxRSS / 1024);

function errorFields(error: unknown): { errorType: string; errorMessage: string } {
  if (error instanceof Error) return { errorType: error.name || "Error", errorMessage: error.message };
  return { errorType: "Error", errorMessage: String(error) };
}

async function main(): Promise<void> {
  const [modulePath, exportName] = process.argv.slice(2);
  if (!modulePath || !exportName) throw new Error("usage: lambda-bootstrap <handler module> <export name>");
  let handler: Handler;
  try {
    const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
    const candidate = module[exportName];
    if (typeof candidate !== "function") {
      failInit("Runtime.HandlerNotFound", `${exportName} is undefined or not exported`);
      return;
    }
    handler = candidate as Handler;
  } catch (error) {
    failInit("Runtime.ImportModuleError", errorFields(error).errorMessage);
    return;
  }
  send({ type: "ready", bootMs, loadMs: performance.now() - bootMs });

  process.on("message", (message: InvokeMessage) => {
    if (message?.type !== "invoke") return;
    void invoke(handler, message);
  });
  // The runtime going away leaves nothing for this environment to do.
  process.on("disconnect", () => process.exit(0));
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: message.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${message.functionName}`,
    memoryLimitInMB: String(message.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${message.functionName}`,
    logStreamName: message.logStream,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
  };
  try {
    const result = await handler(message.event, context);
    send({ type: "result", requestId: message.requestId, ok: true, result, maxMemoryUsedMb: maxMemoryUsedMb() });
  } catch (error) {
    send({
      type: "result",
      requestId: message.requestId,
      ok: false,
      ...errorFields(error),
      maxMemoryUsedMb: maxMemoryUsedMb(),
    });
  }
}

main().catch((error: unknown) => failInit("Runtime.Unknown", errorFields(error).errorMessage));
