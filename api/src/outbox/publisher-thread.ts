import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { OrderPublisher, PublishEntry } from "@surge/core";
import type { PublisherThreadData, PublishReply, PublishRequest } from "./protocol.js";

interface PublisherThreadOptions {
  topicArn: string;
  /**
   * The thread's environment, over this process's: where its SNS client finds the endpoint,
   * region and credentials (standard AWS SDK configuration, as `createAwsClients()` reads it).
   */
  env?: Record<string, string>;
  /** The thread's module. Default: thread-main (`publisher-thread.js` beside the built bundle). */
  entry?: URL;
}

/**
 * PublishBatch from a worker thread: the SDK's signing and parsing cost the event loop more than the
 * ten accepts a call carries. If the thread dies, calls in flight fail (the relay keeps their rows).
 */
export class PublisherThread implements OrderPublisher {
  #worker: Worker | undefined;
  #seq = 0;
  #closed = false;
  readonly #pending = new Map<number, { resolve: (ids: Set<string>) => void; reject: (error: Error) => void }>();

  constructor(readonly options: PublisherThreadOptions) {}

  /** Threads started so far (a restarted thread counts again). */
  started = 0;

  publishBatch(entries: ReadonlyArray<PublishEntry>): Promise<Set<string>> {
    if (this.#closed) return Promise.reject(new Error("publisher thread closed"));
    const worker = this.#worker ?? this.#start();
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      worker.postMessage({ seq, entries } satisfies PublishRequest);
    });
  }

  /** Stops the thread; calls still in flight fail (their rows stay in the outbox). */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(new Error("publisher thread closed"));
    await worker?.terminate();
  }

  #start(): Worker {
    const worker = startThread(
      this.options.entry ?? defaultEntry(),
      { topicArn: this.options.topicArn } satisfies PublisherThreadData,
      this.options.env,
    );
    this.started++;
    worker.on("message", (reply: PublishReply) => {
      const pending = this.#pending.get(reply.seq);
      if (!pending) return;
      this.#pending.delete(reply.seq);
      if (reply.error) pending.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
      else pending.resolve(new Set(reply.accepted));
    });
    const lost = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#failAll(error);
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`publisher thread exited with code ${code}`)));
    // An API that forgets close() still exits.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}

/** thread-main: `publisher-thread.js` beside the API's bundle, or the TypeScript source under tsx. */
function defaultEntry(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("./thread-main.ts", import.meta.url)
    : new URL("./publisher-thread.js", import.meta.url);
}

/**
 * Starts a module as a worker thread. A TypeScript module (tests, benchmarks under tsx) is loaded
 * through tsx's API, since a worker thread does not inherit the parent's `--import tsx` loader.
 */
function startThread(entry: URL, data: PublisherThreadData, env: Record<string, string> | undefined): Worker {
  const options = { workerData: data, ...(env && { env: { ...process.env, ...env } }) };
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, options);
  const require = createRequire(import.meta.url);
  const tsxPackage = require.resolve("tsx/package.json");
  const tsxApi = JSON.parse(readFileSync(tsxPackage, "utf8")).exports["./esm/api"].import.default as string;
  const code = `import { tsImport } from ${JSON.stringify(pathToFileURL(join(dirname(tsxPackage), tsxApi)).href)};
await tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), options);
}
