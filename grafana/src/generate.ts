/**
 * The one generator: `npm run -w grafana generate` writes every dashboard,
 * provisioning file, Prometheus config and rule file from the TypeScript
 * sources, and removes generated files that are no longer produced.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GENERATED_DIRS, renderArtifacts } from "./artifacts.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const artifacts = renderArtifacts();
let written = 0;
for (const [path, content] of artifacts) {
  const file = join(repoRoot, path);
  mkdirSync(dirname(file), { recursive: true });
  let current: string | undefined;
  try {
    current = readFileSync(file, "utf8");
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  writeFileSync(file, content);
  written++;
  console.log(`wrote ${path}`);
}
for (const dir of GENERATED_DIRS) {
  for (const name of readdirSync(join(repoRoot, dir))) {
    const path = `${dir}/${name}`;
    if (artifacts.has(path)) continue;
    rmSync(join(repoRoot, path));
    console.log(`removed ${path} (no longer generated)`);
  }
}
console.log(`${artifacts.size} generated files, ${written} changed`);
