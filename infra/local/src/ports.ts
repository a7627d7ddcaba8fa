import { createServer } from "node:net";

/** A fixed port of the local stack: the piece that listens on it and the variable that moves it. */
export interface StackPort {
  /** "the console", "the API", … as a sentence names it. */
  piece: string;
  port: number;
  variable: string;
}

/**
 * Two pieces given the same port, as one line each ("PORT and WEB_PORT are both 3000 (the API and the
 * console)"). Port 0 (any free port) never clashes.
 */
export function portClashes(ports: readonly StackPort[]): string[] {
  const problems: string[] = [];
  const seen = new Map<number, StackPort>();
  for (const p of ports) {
    if (p.port === 0) continue;
    const first = seen.get(p.port);
    if (first) {
      problems.push(
        `${first.variable} and ${p.variable} are both ${p.port} (${first.piece} and ${p.piece}): give each its own port`,
      );
    } else {
      seen.set(p.port, p);
    }
  }
  return problems;
}

/** The one-line reason a piece could not listen, naming the address and the variable that moves it. */
export function listenProblem(p: StackPort, code: string | undefined): string {
  const why =
    code === "EADDRINUSE" ? "address in use" : code === "EACCES" ? "permission denied" : (code ?? "unknown error");
  return `${p.piece} could not listen on 127.0.0.1:${p.port} (${why}): set ${p.variable} to a free port, or stop what holds it`;
}

/** An error naming the piece and its variable when `error` is a listen failure; `error` itself otherwise. */
export function asListenError(p: StackPort, error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "EADDRINUSE" || code === "EACCES" ? new Error(listenProblem(p, code), { cause: error }) : error;
}

/**
 * Checks that each port is free on 127.0.0.1 by listening on it for a moment: a port another program
 * holds stops `npm start` before anything starts, instead of a child failing (or, worse, the other
 * program answering) behind a "running" banner. Rejects with every taken port, one a line.
 */
export async function assertPortsFree(ports: readonly StackPort[]): Promise<void> {
  const problems: string[] = [];
  for (const p of ports) {
    if (p.port === 0) continue;
    const code = await new Promise<string | undefined>((resolve) => {
      const server = createServer();
      server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      server.listen({ port: p.port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(undefined)));
    });
    if (code) problems.push(listenProblem(p, code));
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
}
