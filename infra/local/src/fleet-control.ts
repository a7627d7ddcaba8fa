import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fieldProblems, TASK_CONCURRENCY_MAX, TASK_CONCURRENCY_MIN } from "@surge/core";
import { z } from "zod";
import type { FleetSnapshot, TaskSupervisor } from "./supervisor.js";

interface FleetControlOptions {
  supervisor: TaskSupervisor;
  /** Upper bound for the desired count (MAX_WORKER_TASKS); the API checks it too, this is the last line. */
  maxTasks: number;
  /** Bearer token callers must present; the stack generates one per run and hands it to the API only. */
  token: string;
  /** Port to listen on (FLEET_CONTROL_PORT); 0 = any free port. */
  port: number;
  /** Interface to bind. Default 127.0.0.1: the control plane is never reachable from off the machine. */
  host?: string;
}

export interface FleetControlServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** What `GET /v1/fleet` answers: the supervisor's snapshot and the bound it enforces. */
type FleetControlState = FleetSnapshot & { maxTasks: number };

const MAX_BODY_BYTES = 4096;

/**
 * The local stand-in for the ECS API, on loopback in the stack runner: the supervisor lives here, not
 * in the API, so killing the API never orphans a worker (docs/workers-and-autoscaling.md).
 *
 *   GET /v1/fleet  → FleetControlState
 *   PUT /v1/fleet  {desiredCount?, concurrency?} → FleetControlState (400 naming the field and bound)
 */
export async function startFleetControl(options: FleetControlOptions): Promise<FleetControlServer> {
  const { supervisor, maxTasks } = options;
  const expected = Buffer.from(options.token);
  const updateSchema = z
    .strictObject({
      desiredCount: z.int().min(0).max(maxTasks, `must be an integer in 0..${maxTasks} (MAX_WORKER_TASKS)`).optional(),
      concurrency: z
        .int()
        .min(TASK_CONCURRENCY_MIN)
        .max(TASK_CONCURRENCY_MAX, `must be an integer in ${TASK_CONCURRENCY_MIN}..${TASK_CONCURRENCY_MAX}`)
        .optional(),
    })
    .refine((b) => b.desiredCount !== undefined || b.concurrency !== undefined, "give desiredCount or concurrency");

  const state = (): FleetControlState => ({ ...supervisor.snapshot(), maxTasks });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
    const given = Buffer.from(match?.[1]?.trim() ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return send(res, 401, { error: "missing or invalid fleet control token" });
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/v1/fleet") return send(res, 404, { error: `no route for ${req.method} ${path}` });
    if (req.method === "GET") return send(res, 200, state());
    if (req.method !== "PUT") return send(res, 405, { error: "use GET or PUT" });

    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      return send(res, 400, { error: `body is not valid JSON: ${(error as Error).message}` });
    }
    const parsed = updateSchema.safeParse(body);
    if (!parsed.success) {
      const details = fieldProblems(parsed.error.issues);
      return send(res, 400, { error: `${details[0]?.field}: ${details[0]?.message}`, details });
    }
    // Concurrency first: tasks started by a scale-out in the same request start with the new value.
    if (parsed.data.concurrency !== undefined) supervisor.setConcurrency(parsed.data.concurrency);
    if (parsed.data.desiredCount !== undefined) supervisor.setDesiredCount(parsed.data.desiredCount);
    return send(res, 200, state());
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${address}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
