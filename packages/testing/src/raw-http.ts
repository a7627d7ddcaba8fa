/**
 * A raw HTTP/1.1 client over a TCP socket, for hostile-input tests: it sends exactly the bytes it is
 * given (malformed heads, lying content types, chunked or oversized bodies) where fetch would refuse
 * or normalise them, and reads whatever the server answers before it closes the connection.
 */
import { connect } from "node:net";

export interface RawResponse {
  /** 0 when the server closed the connection without an HTTP answer. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
}

/** Builds a well-formed request head and body from parts (Connection: close, so the answer ends the exchange). */
function buildRequest(host: string, request: RawRequest): Buffer[] {
  const body = typeof request.body === "string" ? Buffer.from(request.body) : Buffer.from(request.body ?? []);
  const headers: Record<string, string> = { host, connection: "close", ...request.headers };
  if (request.body !== undefined) {
    if (request.chunked) headers["transfer-encoding"] = "chunked";
    else headers["content-length"] ??= String(body.length);
  }
  const head = Buffer.from(
    `${request.method ?? "POST"} ${request.path ?? "/"} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\r\n")}\r\n\r\n`,
    "latin1",
  );
  if (request.body === undefined) return [head];
  if (!request.chunked) return [head, body];
  const parts = [head];
  for (let i = 0; i < body.length; i += 16_384) {
    const chunk = body.subarray(i, i + 16_384);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  return parts;
}

/**
 * Writes `parts` to a fresh connection and resolves with the parsed answer. Write errors are ignored:
 * a server may answer (413) and close before an oversized body is sent, and the answer is what counts.
 */
export function rawExchange(url: string, parts: ReadonlyArray<Uint8Array>, timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("error", () => {
      // ECONNRESET/EPIPE after the server answered and closed: the answer is already in `received`.
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(received)));
    });
    socket.on("connect", async () => {
      for (const part of parts) {
        if (socket.destroyed) break;
        if (!socket.write(part)) await new Promise((r) => socket.once("drain", r).once("close", r));
      }
    });
  });
}

export function rawRequest(url: string, request: RawRequest): Promise<RawResponse> {
  return rawExchange(url, buildRequest(new URL(url).host, request));
}

function parseResponse(bytes: Buffer): RawResponse {
  const end = bytes.indexOf("\r\n\r\n");
  const head = bytes.subarray(0, Math.max(0, end)).toString("latin1");
  if (!head.startsWith("HTTP/1.") || end < 0) return { status: 0, headers: {}, body: bytes.toString("utf8") };
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(end + 4);
  if (headers["transfer-encoding"] === "chunked") body = dechunk(body);
  return { status: Number(statusLine.split(" ")[1] ?? 0), headers, body: body.toString("utf8") };
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    const size = eol < 0 ? 0 : Number.parseInt(body.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) return Buffer.concat(out);
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 4 + size;
  }
}
