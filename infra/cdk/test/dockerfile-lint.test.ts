import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATABASE_URL_QUERY } from "../lib/database.js";
import { API_PORT, WEB_PORT, WORKER_METRICS_PORT } from "../lib/environments.js";
import {
  isPinned,
  lintDockerfile,
  parseDockerfile,
  parseInstructions,
  type RuleId,
  substitute,
} from "../lint/dockerfile.js";
import { repoRoot } from "./cdk-harness.js";

const dockerignore = readFileSync(join(repoRoot, ".dockerignore"), "utf8");
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

/** A Dockerfile that passes every rule; each case below breaks exactly one thing in it. */
const GOOD = `# syntax=docker/dockerfile:1.7
ARG NODE_VERSION=24.11.1
FROM node:\${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:\${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN apt-get update \\
  && apt-get install -y --no-install-recommends python3 \\
  && rm -rf /var/lib/apt/lists/* \\
  && npm ci --omit=dev

FROM node:\${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
HEALTHCHECK CMD ["node", "-e", "process.exit(0)"]
CMD ["node", "dist/main.js"]
`;

const rules = (text: string): RuleId[] => lintDockerfile(text, { dockerignore }).map((f) => f.rule);

describe("the Dockerfile linter", () => {
  it("passes a Dockerfile that keeps every rule", () => {
    expect(lintDockerfile(GOOD, { dockerignore })).toEqual([]);
  });

  const broken: Array<[string, RuleId, (text: string) => string]> = [
    [
      "a single stage",
      "multi-stage",
      () => 'FROM node:24.11.1-bookworm-slim\nUSER node\nHEALTHCHECK CMD ["true"]\nCMD ["node"]\n',
    ],
    ["a runtime stage that copies nothing built", "multi-stage", (t) => t.replaceAll(/^COPY --from=.*$/gm, "")],
    ["a floating tag", "pinned-base", (t) => t.replace("ARG NODE_VERSION=24.11.1", "ARG NODE_VERSION=24")],
    ["latest", "pinned-base", (t) => t.replace(`node:\${NODE_VERSION}-bookworm-slim AS deps`, "node:latest AS deps")],
    ["no tag at all", "pinned-base", (t) => t.replace(`node:\${NODE_VERSION}-bookworm-slim AS deps`, "node AS deps")],
    ["an ARG without a default", "pinned-base", (t) => t.replace("ARG NODE_VERSION=24.11.1", "ARG NODE_VERSION")],
    ["no USER", "non-root", (t) => t.replace("USER node\n", "")],
    ["USER root", "non-root", (t) => t.replace("USER node", "USER root")],
    ["USER 0:0", "non-root", (t) => t.replace("USER node", "USER 0:0")],
    ["no HEALTHCHECK", "healthcheck", (t) => t.replace(/^HEALTHCHECK.*$/m, "")],
    ["HEALTHCHECK NONE", "healthcheck", (t) => t.replace(/^HEALTHCHECK.*$/m, "HEALTHCHECK NONE")],
    ["ADD of a URL", "no-add", (t) => t.replace("COPY . .", "ADD https://example.com/app.tgz /app/")],
    ["ADD of a local file", "no-add", (t) => t.replace("COPY . .", "ADD . .")],
    ["npm install", "npm-ci", (t) => t.replace("RUN npm ci\n", "RUN npm install\n")],
    ["dev dependencies copied into the runtime", "npm-ci", (t) => t.replace("npm ci --omit=dev", "npm ci")],
    [
      "npm ci in the runtime stage with dev dependencies",
      "npm-ci",
      (t) => t.replace("USER node", "RUN npm ci\nUSER node"),
    ],
    ["CMD in shell form", "exec-form", (t) => t.replace('CMD ["node", "dist/main.js"]', "CMD node dist/main.js")],
    ["ENTRYPOINT in shell form", "exec-form", (t) => t.replace("USER node", "USER node\nENTRYPOINT node")],
    ["apt without --no-install-recommends", "apt-hygiene", (t) => t.replace(" --no-install-recommends", "")],
    ["apt lists kept in the layer", "apt-hygiene", (t) => t.replace("&& rm -rf /var/lib/apt/lists/* \\\n", "")],
    [
      "a baked-in secret",
      "no-baked-secrets",
      (t) => t.replace("ENV NODE_ENV=production", "ENV NODE_ENV=production DB_PASSWORD=hunter2"),
    ],
    [
      "a secret build arg with a default",
      "no-baked-secrets",
      (t) =>
        t.replace(
          `FROM node:\${NODE_VERSION}-bookworm-slim\n`,
          `FROM node:\${NODE_VERSION}-bookworm-slim\nARG NPM_TOKEN=abc\n`,
        ),
    ],
    [
      "a relative WORKDIR",
      "absolute-workdir",
      (t) => t.replace("WORKDIR /app\nCOPY --from", "WORKDIR app\nCOPY --from"),
    ],
  ];
  for (const [what, rule, breakIt] of broken) {
    it(`flags ${what} (${rule})`, () => {
      const text = breakIt(GOOD);
      expect(text).not.toBe(GOOD);
      expect(rules(text)).toContain(rule);
    });
  }

  it("flags a missing or thin .dockerignore", () => {
    expect(lintDockerfile(GOOD, {}).map((f) => f.rule)).toEqual(["dockerignore"]);
    const findings = lintDockerfile(GOOD, { dockerignore: "node_modules\n# .git\n" });
    expect(findings.map((f) => f.message)).toEqual([
      ".dockerignore does not exclude .git",
      ".dockerignore does not exclude cdk.out",
      ".dockerignore does not exclude .env",
    ]);
  });

  it("reads instructions the way BuildKit does: continuations, comments inside them, flags, JSON form", () => {
    const [run, copy, cmd] = parseInstructions(
      'RUN a \\\n  # a comment between continuation lines\n  && b\nCOPY --from=build --chown=node /x /y\nCMD ["node", "x.js"]\n',
    );
    expect(run).toMatchObject({ keyword: "RUN", rest: "a && b", line: 1 });
    expect(copy).toMatchObject({ keyword: "COPY", flags: { from: "build", chown: "node" }, rest: "/x /y", line: 4 });
    expect(cmd?.json).toEqual(["node", "x.js"]);
  });

  it("resolves global ARGs in FROM and follows stages that build on stages", () => {
    const parsed = parseDockerfile(`ARG V=1.2.3\nFROM img:\${V} AS base\nUSER app\nFROM base AS final\nRUN x\n`);
    expect(parsed.stages.map((st) => st.base)).toEqual(["img:1.2.3", "base"]);
    expect(parsed.stages[1]?.parent?.name).toBe("base");
    expect(substitute(`\${A:-fallback}-\${B}`, new Map([["B", "b"]]))).toBe("fallback-b");
    expect(substitute(`\${A}`, new Map())).toBeUndefined();
  });

  it("knows pinned image references from floating ones", () => {
    expect(isPinned("node:24.11.1-bookworm-slim")).toBe(true);
    expect(isPinned(`gcr.io/distroless/nodejs24-debian12@sha256:${"a".repeat(64)}`)).toBe(true);
    expect(isPinned("localhost:5000/app:1.0.0")).toBe(true);
    expect(isPinned("localhost:5000/app")).toBe(false);
    expect(isPinned("node:24-bookworm-slim")).toBe(false);
    expect(isPinned("node:lts")).toBe(false);
  });
});

describe("the repository's Dockerfiles", () => {
  const images = [
    { file: "api/Dockerfile", workspace: "api", port: API_PORT, database: true },
    { file: "worker/Dockerfile", workspace: "worker", port: WORKER_METRICS_PORT, database: true },
    { file: "web/Dockerfile", workspace: "web", port: WEB_PORT, database: false },
  ];

  for (const image of images) {
    it(`${image.file} passes the linter`, () => {
      expect(lintDockerfile(read(image.file), { dockerignore })).toEqual([]);
    });

    it(`${image.file} builds its own workspace and serves on the port the stack routes to`, () => {
      const text = read(image.file);
      const pkg = JSON.parse(read(`${image.workspace}/package.json`)) as {
        name: string;
        scripts: Record<string, string>;
      };
      expect(text).toContain(`npm run build --workspace=${pkg.name}`);
      expect(text).toMatch(new RegExp(`^EXPOSE ${image.port}$`, "m"));
      const runtime = parseDockerfile(text).stages.at(-1);
      const cmd = runtime?.instructions.find((i) => i.keyword === "CMD")?.json ?? [];
      if (image.workspace === "web") {
        // Next's standalone server, traced from the repository root (web/next.config.ts).
        expect(cmd).toEqual(["node", "web/server.js"]);
        expect(text).toMatch(new RegExp(`PORT=${image.port}\\b`));
        expect(read("web/next.config.ts")).toMatch(/output: "standalone"/);
      } else {
        // The bundle the workspace's build script writes is the one the image runs.
        const entry = cmd.at(-1) ?? "";
        expect(entry).toBe(`${image.workspace}/dist/main.js`);
        expect(pkg.scripts.build).toContain(entry.replace(`${image.workspace}/`, ""));
      }
    });

    if (image.database) {
      it(`${image.file} trusts Amazon RDS's CAs, which DATABASE_URL's ${DATABASE_URL_QUERY} needs`, () => {
        const text = read(image.file);
        expect(DATABASE_URL_QUERY).toBe("sslmode=verify-full");
        expect(text).toMatch(/NODE_EXTRA_CA_CERTS=(\S+)/);
        const path = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(text)?.[1] ?? "";
        expect(text).toContain(`COPY --from=rds-ca /rds-ca.pem .${path.replace("/app", "")}`);
      });
    }
  }

  it("every image runs the Node.js major the Lambda runtime runs", async () => {
    const { LAMBDA_RUNTIME } = await import("../lib/lambda-processor.js");
    const major = /nodejs(\d+)\.x/.exec(LAMBDA_RUNTIME.name)?.[1];
    for (const { file } of images)
      expect(read(file)).toMatch(new RegExp(`^ARG NODE_VERSION=${major}\\.\\d+\\.\\d+$`, "m"));
  });

  it("the build context's .dockerignore exists and keeps host artefacts out", () => {
    expect(existsSync(join(repoRoot, ".dockerignore"))).toBe(true);
    for (const pattern of ["**/node_modules", "**/dist", "**/cdk.out", ".git", "**/.env"]) {
      expect(dockerignore.split("\n")).toContain(pattern);
    }
  });
});
