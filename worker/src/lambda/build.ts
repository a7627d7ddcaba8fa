import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildResult, build, type Plugin } from "esbuild";

/**
 * Bundles worker/src/lambda/index.ts into one minified ES module (dist/lambda.js). better-sqlite3 is
 * required lazily: the zip does not carry it, so a static import would fail every init on AWS.
 */
const LAMBDA_ENTRY = fileURLToPath(new URL("./index.ts", import.meta.url));

/** Native packages become a lazy `require()` where they are used, never a top-level `import`. */
const lazyNative: Plugin = {
  name: "lazy-native",
  setup(b) {
    b.onResolve({ filter: /^(better-sqlite3|pg-native)$/ }, (args) =>
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
    plugins: [lazyNative],
    // CommonJS inside an ESM bundle still calls require(): give it one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildLambdaBundle(resolve(process.argv[2] ?? "dist/lambda.js"));
}
