/**
 * The import boundary between workspaces: a workspace reaches another only by
 * package name, through that package's `exports`, and declares it in its
 * package.json. A relative import that leaves its workspace fails here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = join(import.meta.dirname, "../..");
const SKIP = new Set(["node_modules", "dist", ".next", ".turbo", "cdk.out", "coverage"]);
const SOURCE = /\.(m?[jt]sx?|cts|mts)$/;
const SPECIFIER = /(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*|vi\.mock\(\s*)["']([^"']+)["']/g;

interface Workspace {
  dir: string;
  name: string;
  declared: Set<string>;
  exports: Set<string>;
}

function readWorkspaces(root: string): Workspace[] {
  const patterns: string[] = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).workspaces;
  const dirs = patterns.flatMap((p) =>
    p.endsWith("/*") ? readdirSync(join(root, p.slice(0, -2))).map((n) => join(p.slice(0, -2), n)) : [p],
  );
  return dirs
    .filter((dir) => existsSync(join(root, dir, "package.json")))
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
      const declared = new Set(
        ["dependencies", "devDependencies", "peerDependencies"].flatMap((k) => Object.keys(pkg[k] ?? {})),
      );
      const exports = new Set(Object.keys(typeof pkg.exports === "object" ? pkg.exports : {}));
      return { dir, name: pkg.name as string, declared, exports };
    });
}

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir))) {
    if (SKIP.has(entry)) continue;
    const rel = join(dir, entry);
    if (statSync(join(root, rel)).isDirectory()) out.push(...sourceFiles(root, rel));
    else if (SOURCE.test(entry)) out.push(rel);
  }
  return out;
}

/** Every import in `files` (path → source) that breaks the boundary, as "file: reason". */
function boundaryViolations(workspaces: Workspace[], files: Map<string, string>): string[] {
  const owner = (path: string) =>
    workspaces
      .filter((w) => path === w.dir || path.startsWith(`${w.dir}/`))
      .sort((a, b) => b.dir.length - a.dir.length)[0];
  const byName = new Map(workspaces.map((w) => [w.name, w]));
  const found: string[] = [];
  for (const [file, source] of files) {
    const home = owner(file);
    for (const [, spec] of source.matchAll(SPECIFIER)) {
      if (!spec) continue;
      if (spec.startsWith(".")) {
        const target = normalize(join(dirname(file), spec));
        if (owner(target) !== home) found.push(`${file}: ${spec} leaves ${home?.dir ?? "the root"}`);
        continue;
      }
      const match = /^(@surge\/[^/]+)(\/.*)?$/.exec(spec);
      if (!match?.[1]) continue;
      const target = byName.get(match[1]);
      if (!target) found.push(`${file}: ${match[1]} is no workspace`);
      else if (home && target !== home && !home.declared.has(target.name))
        found.push(`${file}: imports ${target.name}, which ${home.dir}/package.json does not declare`);
      else if (!target.exports.has(`.${match[2] ?? ""}`))
        found.push(`${file}: ${spec} is not in ${target.dir}/package.json "exports"`);
    }
  }
  return found;
}

describe("workspace boundaries", () => {
  const workspaces = readWorkspaces(repoRoot);

  it("every import between workspaces goes through a declared package name and its exports", () => {
    const files = new Map<string, string>();
    for (const w of workspaces) {
      for (const f of sourceFiles(repoRoot, w.dir)) {
        // This file's own fixtures below are bad imports on purpose.
        if (f !== relative(repoRoot, import.meta.filename)) files.set(f, readFileSync(join(repoRoot, f), "utf8"));
      }
    }
    expect(files.size).toBeGreaterThan(200);
    expect(boundaryViolations(workspaces, files)).toEqual([]);
  });

  it("catches a relative import into another workspace, an undeclared package and an unexported path", () => {
    const files = new Map([
      // Split so that no tool scanning this file's text mistakes the fixture for a real import.
      ["web/src/lib/x.ts", `import type { A } from ${'"'}../../../api/src/contract";`],
      ["worker/src/y.ts", 'import { z } from "@surge/loadgen";'],
      ["e2e/test/z.ts", 'import { q } from "@surge/api/src/app";'],
    ]);
    expect(boundaryViolations(workspaces, files)).toEqual([
      "web/src/lib/x.ts: ../../../api/src/contract leaves web",
      "worker/src/y.ts: imports @surge/loadgen, which worker/package.json does not declare",
      'e2e/test/z.ts: @surge/api/src/app is not in api/package.json "exports"',
    ]);
  });

  it("turbo's inputs come from the declared dependencies, not from paths into other packages", () => {
    const turbo = readFileSync(join(repoRoot, "turbo.json"), "utf8");
    expect(turbo).not.toMatch(/\.\.\//);
  });
});
