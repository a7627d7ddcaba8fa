// Bundles one entry point of a deployable into a single ESM file for Node 20.
// Native and optional modules stay external: the image installs them.
// Usage: node scripts/bundle.mjs <entry.ts> <out.js> [more entries as in:out pairs]
import { build } from "esbuild";

const args = process.argv.slice(2);
if (args.length < 2 || args.length % 2 !== 0) {
  console.error("usage: bundle.mjs <entry.ts> <out.js> [<entry.ts> <out.js> ...]");
  process.exit(2);
}
for (let i = 0; i < args.length; i += 2) {
  await build({
    entryPoints: [args[i]],
    outfile: args[i + 1],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: true,
    minify: false,
    legalComments: "none",
    logLevel: "warning",
    external: ["better-sqlite3", "pg-native", "fsevents"],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}
