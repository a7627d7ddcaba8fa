import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { buildLambdaBundle } from "@surge/worker/lambda-build";
import { build } from "esbuild";
import { repoRoot } from "./stack.js";

/**
 * The local Lambda runtime's bootstrap and Surge's handler, bundled from the current source into a
 * fresh directory under node_modules/.cache (its `dir`, which the caller removes).
 */
export async function buildLocalLambda(
  name: string,
): Promise<{ dir: string; bootstrapScript: string; surgeModule: string }> {
  const cache = join(repoRoot, "node_modules/.cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, `surge-${name}-`));
  const bootstrapScript = join(dir, "lambda-bootstrap.js");
  const surgeModule = join(dir, "lambda.js");
  await Promise.all([
    build({
      entryPoints: [join(repoRoot, "infra/lambda-runtime/src/bootstrap.ts")],
      outfile: bootstrapScript,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      logLevel: "warning",
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    }),
    buildLambdaBundle(surgeModule),
  ]);
  return { dir, bootstrapScript, surgeModule };
}
