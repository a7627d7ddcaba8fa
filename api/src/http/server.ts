import { type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import {
  errorMessage,
  type Logger,
  NonRetryableError,
  PaymentDeclinedError,
  PaymentUnavailableError,
  ValidationError,
} from "@surge/core";
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import type { ApiMetrics, RejectReason } from "../metrics.js";

/** An error that already knows its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: ReadonlyArray<{ field: string; message: string }>,
  ) {
    super(message);
  }
}

/** The one place errors become HTTP answers: `{error, details?}` with the right status. */
export function errorHandler(log: Logger, metrics: ApiMetrics): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const ordersRoute = req.path.startsWith("/orders");
    const reject = (reason: RejectReason) => {
      if (ordersRoute) metrics.rejected.labels(reason).inc();
    };
    if (error instanceof ValidationError) {
      reject("validation");
      res.status(400).json({ error: error.message, details: error.details });
      return;
    }
    if (error instanceof HttpError && error.status === 502 && "call" in error && "remedy" in error) {
      // An AWS call failed (AwsCallError): the SDK's own error, which may dump the raw answer, goes to the log only.
      log.warn("AWS call failed", { call: error.call, path: req.path, error: errorMessage(error.cause) });
      res.status(502).json({ error: error.message, call: error.call, remedy: error.remedy });
      return;
    }
    if (error instanceof HttpError) {
      if (error.status === 415) reject("unsupported_media_type");
      res.status(error.status).json({ error: error.message, ...(error.details && { details: error.details }) });
      return;
    }
    if (error instanceof PaymentUnavailableError) {
      res.status(503).set("Retry-After", "5").json({ error: error.message });
      return;
    }
    if (error instanceof PaymentDeclinedError) {
      reject("payment_declined");
      res.status(402).json({ error: error.message });
      return;
    }
    // body-parser's errors carry `type` and `status`.
    const e = error as { type?: string; status?: number; limit?: number };
    if (e.type === "entity.too.large") {
      reject("too_large");
      res.status(413).json({
        error: `body exceeds the ${e.limit ?? 65536}-byte limit`,
        details: [{ field: "body", message: "too large" }],
      });
      return;
    }
    if (e.type === "entity.parse.failed") {
      reject("malformed_json");
      res.status(400).json({
        error: "body is not valid JSON",
        details: [{ field: "body", message: errorMessage(error) }],
      });
      return;
    }
    if (typeof e.status === "number" && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: errorMessage(error) });
      return;
    }
    if (error instanceof NonRetryableError) {
      res.status(422).json({ error: error.message });
      return;
    }
    log.error("request failed", { error: errorMessage(error), method: req.method, path: req.path });
    res.status(500).json({ error: "internal error" });
  };
}

/** JSON bodies only: anything else is 415, before the body is read. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is("application/json")) {
    next(new HttpError(415, "content-type must be application/json", [{ field: "content-type", message: "not JSON" }]));
    return;
  }
  next();
};

/** Records request latency under the route template, so an order id never becomes a label. */
export function requestMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
      metrics.httpDuration
        .labels(req.method, route, String(res.statusCode))
        .observe(Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

/**
 * Answers what Node's HTTP parser refuses before Express sees it with a 4xx `{error}`, not Node's bare
 * 400 or closed socket, which a client (or an ALB) cannot tell from a crash.
 */
export function hardenServer(server: Server): void {
  server.on("clientError", (error: Error & { code?: string }, socket: Duplex) => {
    // A reset, or a response already on the wire (the error came mid-body): nothing can be answered.
    // A request whose body broke before any answer started (a bad chunk) still gets one, as in Node's own handler.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const body = JSON.stringify({
      error:
        status === 431 ? "request headers too large" : status === 408 ? "request timed out" : "malformed HTTP request",
      details: [{ field: "request", message: error.code ?? "unparseable" }],
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
