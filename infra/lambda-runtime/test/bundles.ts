/**
 * Bootstrap, the real function and small fixtures bundled from source for the runtime's tests,
 * under node_modules/.cache so better-sqlite3 resolves as it does from worker/dist.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLambdaBundle } from "@surge/worker/lambda-build";
import { build } from "esbuild";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface LambdaBundles {
  dir: string;
  bootstrap: string;
  /** worker/src/lambda/index.ts, bundled: exports snsHandler and sqsHandler. */
  ordersFunction: string;
  /** A function whose behaviour each event picks (see FIXTURE_SOURCE). */
  fixture: string;
  /** A module without the handler export (Runtime.HandlerNotFound). */
  noHandler: string;
  /** A module that throws while it loads (Runtime.ImportModuleError). */
  brokenInit: string;
  remove(): void;
}

/** The test function: `{action}` decides what one invocation does. */
const FIXTURE_SOURCE = `
import { existsSync, readFileSync, writeFileSync } from "node:fs";
export const handler = async (event, context) => {
  switch (event.action) {
    case "echo":
      return { pid: process.pid, value: event.value ?? null, remainingMs: context.getRemainingTimeInMillis() };
    case "sleep":
      await new Promise((r) => setTimeout(r, event.ms));
      return { pid: process.pid };
    case "throw": {
      const error = new Error(event.message ?? "boom");
      error.name = "OrderProcessingError";
      throw error;
    }
    case "fail-times": {
      const seen = existsSync(event.file) ? Number(readFileSync(event.file, "utf8")) : 0;
      writeFileSync(event.file, String(seen + 1));
      if (seen < event.times) throw new Error("attempt " + (seen + 1) + " fails");
      return { pid: process.pid, attempt: seen + 1 };
    }
    case "exit":
      process.exit(3);
    case "hang":
      return new Promise(() => {});
    case "env":
      return { keys: Object.keys(process.env).sort(), stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME, custom: process.env.CUSTOM ?? null };
    default:
      throw new Error("unknown action " + event.action);
  }
};
`;

const banner = { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" };

export async function buildLambdaBundles(): Promise<LambdaBundles> {
  const cache = join(repoRoot, "node_modules/.cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, "surge-lambda-test-"));
  const common = {
    bundle: true,
    platform: "node" as const,
    target: "node20",
    format: "esm" as const,
    logLevel: "warning" as const,
    external: ["better-sqlite3", "pg-native"],
    banner,
  };
  const bootstrap = join(dir, "lambda-bootstrap.js");
  const ordersFunction = join(dir, "lambda.js");
  await Promise.all([
    build({ ...common, entryPoints: [join(repoRoot, "infra/lambda-runtime/src/bootstrap.ts")], outfile: bootstrap }),
    // The function exactly as `npm run build` bundles it.
    buildLambdaBundle(ordersFunction),
  ]);
  const fixture = join(dir, "fixture.mjs");
  writeFileSync(fixture, FIXTURE_SOURCE);
  const noHandler = join(dir, "no-handler.mjs");
  writeFileSync(noHandler, "export const somethingElse = 1;\n");
  const brokenInit = join(dir, "broken-init.mjs");
  writeFileSync(brokenInit, 'throw new Error("cannot connect to the store");\nexport const handler = () => {};\n');
  return {
    dir,
    bootstrap,
    ordersFunction,
    fixture,
    noHandler,
    brokenInit,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** True while a process with this pid exists. */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
