import { defineConfig } from "vitest/config";

// One run over every package, so `npm test` ends with one summary.
export default defineConfig({
  test: {
    include: ["{core,api,worker,infra,grafana,web,bench}/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "**/.next/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real processes and servers: on 2 cores, two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ["default", "./scripts/vitest-summary-reporter.ts"],
    globalSetup: ["./scripts/test-global-setup.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
