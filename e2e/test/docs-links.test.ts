/**
 * The README and docs/ link only to what the repository holds: every relative link names a file
 * that exists (and a heading in it, for `#anchor`s), and the study is reached through Surge's own
 * summary, docs/study.md, whose claims carry `flash-sale-report.txt:LINE` references.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");
const pages = [
  "README.md",
  ...readdirSync(join(repoRoot, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/[^\p{L}\p{N} -]/gu, "")
    .replace(/ /g, "-");

function anchors(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? "")));
}

/** Markdown links `[text](target)` outside code blocks and code spans. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "");
}

describe("README and docs links", () => {
  it("every relative link names a file, and a heading, that exist", () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const target of links(readFileSync(join(repoRoot, page), "utf8"))) {
        if (/^(https?:|mailto:)/.test(target)) continue;
        const [path = "", anchor] = target.split("#");
        const file = path === "" ? join(repoRoot, page) : resolve(dirname(join(repoRoot, page)), path);
        if (!existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && file.endsWith(".md") && !anchors(file).has(anchor))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("the study is linked inside the repository, to a summary with line references", () => {
    const outside: string[] = [];
    for (const page of pages) {
      for (const target of links(readFileSync(join(repoRoot, page), "utf8"))) {
        if (
          /flash-sale-report|seed\/|\/work\/shared/.test(target) ||
          (/^https?:/.test(target) && /study/i.test(target))
        )
          outside.push(`${page}: ${target}`);
      }
    }
    expect(outside).toEqual([]);
    expect(links(readFileSync(join(repoRoot, "README.md"), "utf8"))).toContain("docs/study.md");
    const summary = readFileSync(join(repoRoot, "docs/study.md"), "utf8");
    expect(summary.match(/flash-sale-report\.txt:\d+/g)?.length ?? 0).toBeGreaterThan(20);
  });
});
