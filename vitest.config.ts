import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// One run over every workspace, so `npm test` ends with one summary; each workspace is a
// project of its own (`npm test -w @surge/api` runs only that one).
const root = fileURLToPath(new URL(".", import.meta.url));
const workspaces: string[] = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).workspaces;
const dirs = workspaces
  .flatMap((pattern) =>
    pattern.endsWith("/*")
      ? readdirSync(join(root, pattern.slice(0, -2))).map((name) => join(pattern.slice(0, -2), name))
      : [pattern],
  )
  .filter((dir) => existsSync(join(root, dir, "package.json")));

export default defineConfig({
  test: {
    projects: dirs.map((dir) => ({
      extends: true,
      test: { name: dir.split("/").pop(), root: join(root, dir), include: ["test/**/*.test.ts"] },
    })),
    exclude: ["**/node_modules/**", "**/dist/**", "**/.next/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real processes and servers: on 2 cores, two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ["default", "@surge/testing/summary-reporter"],
    globalSetup: ["@surge/testing/postgres-setup"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
