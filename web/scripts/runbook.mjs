// Writes docs/runbook.md into the console's bundle as a module (web/src/generated/runbook.ts), so the
// console's Runbook page needs no docs folder where it runs. web/test/runbook.test.ts fails when the
// module is stale: run `node web/scripts/runbook.mjs` after editing docs/runbook.md.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const markdown = readFileSync(join(root, "docs", "runbook.md"), "utf8");
const out = join(root, "web", "src", "generated", "runbook.ts");
writeFileSync(
  out,
  `// Generated from docs/runbook.md by web/scripts/runbook.mjs: edit the doc, then run the script.\nexport const RUNBOOK_MARKDOWN = ${JSON.stringify(markdown)};\n`,
);
// In the repository's format, so `biome check` passes on it.
execFileSync(join(root, "node_modules", ".bin", "biome"), ["format", "--write", out], { stdio: "ignore" });
console.log(`wrote ${out}`);
