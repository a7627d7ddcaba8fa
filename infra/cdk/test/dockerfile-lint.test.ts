import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATABASE_URL_QUERY } from "../lib/database.js";
import { API_PORT, WEB_PORT, WORKER_METRICS_PORT } from "../lib/environments.js";
import { repoRoot } from "./cdk-harness.js";
import {
  argsOf,
  flagOf,
  isPinned,
  jsonOf,
  lineOf,
  lintDockerfile,
  parseDockerfile,
  type RuleId,
  stagesNeededBy,
} from "./dockerfile-lint.js";

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
    const [run, copy, cmd] =
      parseDockerfile(
        'FROM scratch\nRUN a \\\n  # a comment between continuation lines\n  && b\nCOPY --from=build --chown=node /x /y\nCMD ["node", "x.js"]\n',
      )[0]?.instructions ?? [];
    expect(run && [run.getKeyword(), argsOf(run), lineOf(run)]).toEqual(["RUN", "a && b", 2]);
    expect(copy && [argsOf(copy), flagOf(copy, "from"), flagOf(copy, "chown"), lineOf(copy)]).toEqual([
      "/x /y",
      "build",
      "node",
      5,
    ]);
    expect(cmd && jsonOf(cmd)).toEqual(["node", "x.js"]);
  });

  it("resolves global ARGs in FROM and follows stages that build on stages", () => {
    const stages = parseDockerfile(`ARG V=1.2.3\nFROM img:\${V} AS base\nUSER app\nFROM base AS final\nRUN x\n`);
    expect(stages.map((st) => st.base)).toEqual(["img:1.2.3", "base"]);
    expect(stages[1]?.parent?.name).toBe("base");
    const [fallback, unset] = parseDockerfile(`ARG B=b\nFROM img:\${A:-fallback}-\${B}\nFROM img:\${A}\n`);
    expect(fallback?.base).toBe("img:fallback-b");
    expect(unset?.base).toBeUndefined();
  });

  it("lints one target: its FROM chain and the stages it copies from, not the file's other stages", () => {
    const twoTargets = `${GOOD}\nFROM node:latest AS other\nRUN npm install\n`;
    expect(lintDockerfile(twoTargets, { dockerignore }).map((f) => f.rule)).toContain("pinned-base");
    const runtime = `${GOOD.replace(`FROM node:\${NODE_VERSION}-bookworm-slim\n`, `FROM node:\${NODE_VERSION}-bookworm-slim AS runtime\n`)}\nFROM node:latest AS other\nRUN npm install\n`;
    expect(lintDockerfile(runtime, { dockerignore, target: "runtime" })).toEqual([]);
    expect(lintDockerfile(runtime, { dockerignore, target: "other" }).map((f) => f.rule)).toEqual(
      expect.arrayContaining(["pinned-base", "npm-ci", "non-root", "healthcheck"]),
    );
    const stages = parseDockerfile(runtime);
    const target = stages.find((st) => st.name === "runtime");
    expect(target && stagesNeededBy(target, stages).map((st) => st.name)).toEqual(["build", "deps", "runtime"]);
  });

  it("flags a target, a COPY --from or a FROM that names no stage above it (stage-graph)", () => {
    expect(lintDockerfile(GOOD, { dockerignore, target: "nope" })).toEqual([
      { rule: "stage-graph", line: 0, message: "no stage is named nope" },
    ]);
    expect(rules(GOOD.replace("COPY --from=build", "COPY --from=biuld"))).toContain("stage-graph");
    const later = `FROM deps AS early\n${GOOD}`;
    expect(rules(later)).toContain("stage-graph");
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

describe("the repository's Dockerfile", () => {
  const text = read("Dockerfile");
  const stages = parseDockerfile(text);
  const images = [
    { target: "api", workspace: "api", port: API_PORT, database: true },
    { target: "worker", workspace: "worker", port: WORKER_METRICS_PORT, database: true },
    { target: "web", workspace: "web", port: WEB_PORT, database: false },
  ];
  /** What `docker build --target` runs for `target`, and the instructions of its image's own stage chain. */
  const image = (target: string) => {
    const final = stages.find((st) => st.name === target);
    if (!final) throw new Error(`the Dockerfile has no stage ${target}`);
    const chain: typeof stages = [];
    for (let st: (typeof stages)[number] | undefined = final; st; st = st.parent) chain.unshift(st);
    return {
      final,
      needed: stagesNeededBy(final, stages),
      runtime: chain.flatMap((st) => st.instructions),
    };
  };
  const allArgs = (steps: ReturnType<typeof image>["runtime"]) => steps.map(argsOf).join("\n");

  for (const { target, workspace, port, database } of images) {
    it(`target ${target} passes the linter`, () => {
      expect(lintDockerfile(text, { dockerignore, target })).toEqual([]);
    });

    it(`target ${target} builds its own workspace and serves on the port the stack routes to`, () => {
      const pkg = JSON.parse(read(`${workspace}/package.json`)) as { name: string; scripts: Record<string, string> };
      const { needed, runtime } = image(target);
      expect(allArgs(needed.flatMap((st) => st.instructions))).toContain(`npm run build --workspace=${pkg.name}`);
      // No other deployable's build runs for this target.
      for (const other of images.filter((i) => i.target !== target)) {
        expect(needed.map((st) => st.name)).not.toContain(`${other.target}-build`);
      }
      expect(runtime.filter((i) => i.getKeyword() === "EXPOSE").map(argsOf)).toEqual([String(port)]);
      const cmdStep = runtime.filter((i) => i.getKeyword() === "CMD").at(-1);
      const cmd = (cmdStep && jsonOf(cmdStep)) ?? [];
      if (workspace === "web") {
        // Next's standalone server, traced from the repository root (web/next.config.ts).
        expect(cmd).toEqual(["node", "web/server.js"]);
        expect(allArgs(runtime)).toMatch(new RegExp(`PORT=${port}\\b`));
        expect(read("web/next.config.ts")).toMatch(/output: "standalone"/);
      } else {
        // The bundle the workspace's build script writes is the one the image runs.
        const entry = cmd.at(-1) ?? "";
        expect(entry).toBe(`${workspace}/dist/main.js`);
        expect(pkg.scripts.build).toContain(entry.replace(`${workspace}/`, ""));
      }
    });

    if (database) {
      it(`target ${target} trusts Amazon RDS's CAs, which DATABASE_URL's ${DATABASE_URL_QUERY} needs`, () => {
        const { runtime } = image(target);
        expect(DATABASE_URL_QUERY).toBe("sslmode=verify-full");
        const path = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(allArgs(runtime))?.[1] ?? "";
        expect(path).toMatch(/^\/app\//);
        expect(runtime.filter((i) => i.getKeyword() === "WORKDIR").map(argsOf)).toContain("/app");
        const copies = runtime.filter((i) => flagOf(i, "from") === "rds-ca").map(argsOf);
        expect(copies).toContain(`/rds-ca.pem .${path.replace("/app", "")}`);
      });
    }
  }

  it("every target's FROM chain and COPY --from sources are stages above it", () => {
    for (const { target } of images) {
      const { final, needed } = image(target);
      for (const st of needed) {
        expect(st.index).toBeLessThanOrEqual(final.index);
        const copies = st.instructions.map((i) => flagOf(i, "from")).filter((f) => f !== undefined);
        for (const from of copies) expect(stages.filter((s) => s.index < st.index).map((s) => s.name)).toContain(from);
      }
    }
    // The shared stages really are shared: the base of every build, and the RDS bundle of both bundled services.
    const users = (name: string) => images.filter(({ target }) => image(target).needed.some((st) => st.name === name));
    expect(users("manifests").map((i) => i.target)).toEqual(["api", "worker", "web"]);
    expect(users("toolchain").map((i) => i.target)).toEqual(["api", "worker", "web"]);
    expect(users("rds-ca").map((i) => i.target)).toEqual(["api", "worker"]);
  });

  it("the manifests stage copies every workspace's package.json that npm ci needs", () => {
    const manifests = stages.find((st) => st.name === "manifests");
    const run = allArgs(manifests?.instructions ?? []);
    expect(run).toContain("cp package.json package-lock.json /out/");
    const globs = (/for \w+ in ([^;]+);/.exec(run)?.[1] ?? "").split(" ").filter(Boolean);
    expect(globs.length).toBeGreaterThan(0);
    const matchers = globs.map((g) => new RegExp(`^${g.replaceAll(".", "\\.").replaceAll("*", "[^/]+")}$`));
    const root = JSON.parse(read("package.json")) as { workspaces: string[] };
    const workspaces = root.workspaces.flatMap((w) =>
      w.endsWith("/*")
        ? readdirSync(join(repoRoot, w.slice(0, -2)), { withFileTypes: true })
            .filter((d) => d.isDirectory() && existsSync(join(repoRoot, w.slice(0, -2), d.name, "package.json")))
            .map((d) => `${w.slice(0, -2)}/${d.name}`)
        : [w],
    );
    for (const nested of ["packages", "infra", "e2e", "bench"]) {
      expect(workspaces.some((w) => w === nested || w.startsWith(`${nested}/`))).toBe(true);
    }
    for (const workspace of workspaces) {
      expect(
        matchers.some((m) => m.test(`${workspace}/package.json`)),
        workspace,
      ).toBe(true);
    }
  });

  it("every image runs the Node.js major the Lambda runtime runs", async () => {
    const { LAMBDA_RUNTIME } = await import("../lib/lambda-processor.js");
    const major = /nodejs(\d+)\.x/.exec(LAMBDA_RUNTIME.name)?.[1];
    expect(text).toMatch(new RegExp(`^ARG NODE_VERSION=${major}\\.\\d+\\.\\d+$`, "m"));
    for (const st of stages) {
      if (!st.parent) expect(st.from.getImage()).toBe(`node:\${NODE_VERSION}-bookworm-slim`);
    }
  });

  it("the build context's .dockerignore exists and keeps host artefacts out", () => {
    expect(existsSync(join(repoRoot, ".dockerignore"))).toBe(true);
    for (const pattern of ["**/node_modules", "**/dist", "**/cdk.out", ".git", "**/.env"]) {
      expect(dockerignore.split("\n")).toContain(pattern);
    }
  });
});
