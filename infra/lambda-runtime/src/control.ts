import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { AsyncInvoker } from "./async-invoker.js";
import { type LocalLambdaFunction, TooManyRequestsError } from "./function.js";
import type { SnsQueueSource } from "./sns-source.js";

interface LambdaControlOptions {
  fn: LocalLambdaFunction;
  invoker: AsyncInvoker;
  source?: SnsQueueSource | undefined;
  registry: Registry;
  /** Port to listen on (LAMBDA_CONTROL_PORT); 0 = any free port. */
  port: number;
  /** Interface to bind. Default 127.0.0.1: never reachable from off the machine. */
  host?: string;
  /** Bearer token the Invoke API requires; reads (state, summary, reports, metrics) are open on loopback. */
  token: string;
}

export interface LambdaControlServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** What `GET /v1/state` answers: the function's configuration and its live state. */
export interface LambdaControlState {
  function: {
    name: string;
    handler: string;
    memoryMb: number;
    timeoutSeconds: number;
    reservedConcurrency: number;
    idleTimeoutSeconds: number;
  };
  /** Configured now, the runtime's own setting (LAMBDA_PROVISIONED_CONCURRENCY), and its environments. */
  provisionedConcurrency: { configured: number; base: number; ready: number; initializing: number };
  concurrentExecutions: number;
  environments: { idle: number; busy: number; list: ReturnType<LocalLambdaFunction["environments"]> };
  /** Since the runtime started. */
  totals: { invocations: number; cold: number; warm: number; provisioned: number; errors: number; throttles: number };
  async: { pending: number; heldMessages: number; received: number };
}

const MAX_BODY_BYTES = 256 * 1024;

/** The local Lambda runtime's loopback endpoint, beside the runtime (routes: docs/lambda.md). */
export async function startLambdaControl(options: LambdaControlOptions): Promise<LambdaControlServer> {
  const { fn, invoker, source, registry } = options;
  const expected = Buffer.from(options.token);

  const state = (): LambdaControlState => {
    const counts = fn.environmentCounts();
    return {
      function: {
        name: fn.functionName,
        handler: fn.handler,
        memoryMb: fn.memoryMb,
        timeoutSeconds: fn.timeoutMs / 1000,
        reservedConcurrency: fn.reservedConcurrency,
        idleTimeoutSeconds: fn.idleTimeoutMs / 1000,
      },
      provisionedConcurrency: {
        configured: fn.provisionedConcurrency,
        base: fn.baseProvisionedConcurrency,
        ...fn.provisionedCounts(),
      },
      concurrentExecutions: fn.concurrentExecutions,
      environments: { ...counts, list: fn.environments() },
      totals: {
        invocations: fn.totals.cold + fn.totals.warm,
        cold: fn.totals.cold,
        warm: fn.totals.warm,
        provisioned: fn.totals.provisioned,
        errors: fn.totals.errors,
        throttles: fn.totals.throttles,
      },
      async: { pending: invoker.pending, heldMessages: source?.held ?? 0, received: source?.received ?? 0 },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (req.method === "GET" && path === "/metrics") {
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(await registry.metrics());
      return;
    }
    if (req.method === "GET" && path === "/v1/state") return send(res, 200, state());
    if (req.method === "GET" && path === "/v1/reports") {
      const limit = boundedInt(url.searchParams.get("limit"), 50, 1, 10_000);
      return send(res, 200, { reports: fn.reports(limit) });
    }
    if (req.method === "GET" && path === "/v1/summary") {
      const untilMs = boundedInt(url.searchParams.get("untilMs"), Date.now(), 0, Number.MAX_SAFE_INTEGER);
      const sinceMs = boundedInt(url.searchParams.get("sinceMs"), untilMs - 3600_000, 0, untilMs);
      const binSeconds = boundedInt(url.searchParams.get("binSeconds"), 300, 1, 86_400);
      return send(res, 200, fn.summary({ sinceMs, untilMs, binSeconds }));
    }
    if (path === "/v1/provisioned-concurrency" && (req.method === "PUT" || req.method === "DELETE")) {
      // Open on loopback like the reads: it only keeps environments warm, within the reserved concurrency.
      if (req.method === "DELETE") {
        fn.resetProvisionedConcurrency();
        return send(res, 200, state().provisionedConcurrency);
      }
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req)) || "{}");
      } catch (error) {
        return send(res, 400, { field: "body", message: (error as Error).message });
      }
      const value = (body as { provisionedConcurrency?: unknown } | null)?.provisionedConcurrency;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > fn.reservedConcurrency) {
        return send(res, 400, {
          field: "provisionedConcurrency",
          message: `provisionedConcurrency must be an integer in 0..${fn.reservedConcurrency} (the reserved concurrency)`,
        });
      }
      fn.setProvisionedConcurrency(value);
      return send(res, 200, state().provisionedConcurrency);
    }
    const invokePath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    if (invokePath && req.method === "POST") {
      const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
      const given = Buffer.from(match?.[1]?.trim() ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return send(res, 401, { message: "missing or invalid Lambda control token" });
      }
      if (decodeURIComponent(invokePath[1] ?? "") !== fn.functionName) {
        return send(res, 404, {
          __type: "ResourceNotFoundException",
          message: `Function not found: ${invokePath[1]}`,
        });
      }
      let event: unknown;
      try {
        const text = await readBody(req);
        event = text.length > 0 ? JSON.parse(text) : {};
      } catch (error) {
        return send(res, 400, { __type: "InvalidRequestContentException", message: (error as Error).message });
      }
      const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
      if (type === "Event") {
        invoker.enqueue({
          id: `invoke-${Date.now()}-${Math.random().toString(36).slice(2)}`,
          payload: event,
          acceptedAtMs: Date.now(),
        });
        res.writeHead(202).end();
        return;
      }
      if (type !== "RequestResponse") {
        return send(res, 400, {
          __type: "InvalidParameterValueException",
          message: `unsupported invocation type ${type}`,
        });
      }
      try {
        const result = await fn.invoke(event);
        res.setHeader("x-amz-executed-version", "$LATEST");
        res.setHeader("x-amz-request-id", result.requestId);
        if (!result.ok) {
          res.setHeader("x-amz-function-error", "Unhandled");
          return send(res, 200, {
            errorType: result.errorType,
            errorMessage: result.errorMessage,
            report: result.report,
          });
        }
        return send(res, 200, { result: result.result ?? null, report: result.report });
      } catch (error) {
        if (error instanceof TooManyRequestsError) {
          return send(res, 429, {
            __type: "TooManyRequestsException",
            Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
            message: error.message,
          });
        }
        throw error;
      }
    }
    send(res, 404, { message: `no route for ${req.method} ${path}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: (error as Error).message ?? String(error) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function boundedInt(value: string | null, fallback: number, min: number, max: number): number {
  const n = value === null ? Number.NaN : Number(value);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.trunc(n))) : fallback;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
