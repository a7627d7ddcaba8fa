import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildResult, build, type Plugin } from "esbuild";

/**
 * Bundles worker/src/lambda/index.ts into one minified ES module (dist/lambda.js). better-sqlite3 is
 * required lazily: the zip does not carry it, so a static import would fail every init on AWS.
 * Its JavaScript is bundled (evaluated only when the SQLite store opens) and its addon is loaded by
 * path: loading it from node_modules file by file, through `bindings`' search, cost a cold start ~5 ms.
 */
const LAMBDA_ENTRY = fileURLToPath(new URL("./index.ts", import.meta.url));

/** The line in core's SQLite store that loads the driver at run time (esbuild cannot follow it). */
const RUNTIME_REQUIRE = 'createRequire(import.meta.url)("better-sqlite3")';

/**
 * better-sqlite3 inside the bundle: core's run-time require becomes a bundled one (still called
 * only when a store opens), and `bindings` (which searches a dozen paths for the addon, reading a
 * stack trace to find the package) becomes a require of the addon's one path.
 */
const inlineSqlite: Plugin = {
  name: "inline-sqlite",
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/]core[\\/]src[\\/]store[\\/]sqlite\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes(RUNTIME_REQUIRE)) {
        throw new Error(`${args.path} no longer loads the driver with ${RUNTIME_REQUIRE}: update inlineSqlite`);
      }
      return { contents: source.replace(RUNTIME_REQUIRE, 'require("better-sqlite3")'), loader: "ts" };
    });
    b.onResolve({ filter: /^bindings$/ }, (args) =>
      args.importer.includes("better-sqlite3") ? { path: "bindings", namespace: "sqlite-addon" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "sqlite-addon" }, () => ({
      contents:
        'module.exports = (name) => require(require.resolve("better-sqlite3/build/Release/" + name.replace(/(\\.node)?$/, ".node")));',
      loader: "js",
    }));
  },
};

/** pg's test for a Cloudflare Worker, run when the driver loads. */
const PG_RUNTIME_TEST = "if (isCloudflareRuntime()) {";

/**
 * node-postgres decides at load whether it runs in a Cloudflare Worker; on Node 20 its test touches
 * the global `Response`, which loads undici (~12 ms of every PostgreSQL cold start) to build one
 * Response. The function runs on Node.js, so the answer is fixed here, at build time.
 */
const pgOnNode: Plugin = {
  name: "pg-on-node",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes(PG_RUNTIME_TEST)) {
        throw new Error(`${args.path} no longer tests its runtime with ${PG_RUNTIME_TEST}: update pgOnNode`);
      }
      return { contents: source.replace(PG_RUNTIME_TEST, "if (false) {"), loader: "js" };
    });
  },
};

/** Native packages become a lazy `require()` where they are used, never a top-level `import`. */
const lazyNative: Plugin = {
  name: "lazy-native",
  setup(b) {
    b.onResolve({ filter: /^pg-native$/ }, (args) =>
      args.namespace === "lazy-native"
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "lazy-native" },
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-native" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/**
 * Node's built-ins through the banner's require(), not as ES module imports: importing `node:fs` as an
 * ES module builds a namespace of all its exports, which reads `fs.promises` and so loads the
 * promises API at init (~2 ms) for the one function the store uses.
 */
const builtinsViaRequire: Plugin = {
  name: "builtins-via-require",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "import-statement" && args.namespace === "file"
        ? { path: args.path, namespace: "builtin-require" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

export function buildLambdaBundle(outfile: string, options: { metafile?: boolean } = {}): Promise<BuildResult> {
  return build({
    entryPoints: [LAMBDA_ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
    metafile: options.metafile ?? false,
    plugins: [inlineSqlite, pgOnNode, lazyNative, builtinsViaRequire],
    // CommonJS inside an ESM bundle still calls require(): give it one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildLambdaBundle(resolve(process.argv[2] ?? "dist/lambda.js"));
}
