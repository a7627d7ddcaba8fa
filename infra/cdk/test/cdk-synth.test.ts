import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unresolvableImports } from "../lib/lambda-processor.js";
import { repoRoot } from "./cdk-harness.js";

const run = promisify(execFile);

interface Manifest {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
}

interface AssetManifest {
  files: Record<string, { source: { path: string; packaging: string } }>;
  dockerImages: Record<
    string,
    { source: { directory: string; dockerFile?: string; dockerBuildTarget?: string; platform?: string } }
  >;
}

/**
 * `npm run synth -w @surge/cdk` as CI runs it: the real CLI, the app command
 * in infra/cdk/cdk.json, no AWS credentials and no network (a dead proxy answers
 * every connection attempt, so anything that reaches out fails the test).
 */
describe("cdk synth (the real CLI, offline)", () => {
  let outdir: string;
  let result: { stdout: string; stderr: string };

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), "surge-cdk-out-"));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HTTPS_PROXY: "http://127.0.0.1:9",
      HTTP_PROXY: "http://127.0.0.1:9",
      AWS_EC2_METADATA_DISABLED: "true",
      CDK_DISABLE_CLI_TELEMETRY: "true",
    };
    result = await run("npm", ["run", "synth", "-w", "@surge/cdk", "--", "-o", outdir], {
      cwd: repoRoot,
      env,
      timeout: 180_000,
    });
  }, 200_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it("writes the stack's template", () => {
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as Manifest;
    const stack = manifest.artifacts["Surge-dev"];
    expect(stack?.type).toBe("aws:cloudformation:stack");
    const template = JSON.parse(readFileSync(join(outdir, stack?.properties?.templateFile ?? ""), "utf8")) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = new Set(Object.values(template.Resources).map((r) => r.Type));
    for (const type of [
      "AWS::ECS::Service",
      "AWS::SQS::Queue",
      "AWS::SNS::Topic",
      "AWS::RDS::DBInstance",
      "AWS::Lambda::Function",
      "AWS::ApplicationAutoScaling::ScalingPolicy",
    ]) {
      expect(types).toContain(type);
    }
    expect(result.stderr).not.toMatch(/ECONNREFUSED|ENOTFOUND|credentials/i);
  });

  it("images are Docker assets built from targets of the root Dockerfile at deploy time, not at synth", () => {
    const assets = JSON.parse(readFileSync(join(outdir, "Surge-dev.assets.json"), "utf8")) as AssetManifest;
    const images = Object.values(assets.dockerImages);
    const targets = images.map((i) => i.source.dockerBuildTarget).sort();
    expect(targets).toEqual(
      existsSync(join(repoRoot, "web", "package.json")) ? ["api", "web", "worker"] : ["api", "worker"],
    );
    const root = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { workspaces: string[] };
    for (const image of images) {
      // The build context is a copy of the repository without what .dockerignore and the image's excludes keep out.
      const context = join(outdir, image.source.directory);
      expect(image.source.dockerFile ?? "Dockerfile").toBe("Dockerfile");
      expect(existsSync(join(context, "Dockerfile"))).toBe(true);
      expect(existsSync(join(context, "package-lock.json"))).toBe(true);
      expect(existsSync(join(context, "node_modules"))).toBe(false);
      expect(image.source.platform).toBe("linux/amd64");
      // npm ci needs every workspace's manifest, even in the contexts that leave a workspace's sources out.
      for (const workspace of root.workspaces) {
        const dirs = workspace.endsWith("/*")
          ? readdirSync(join(repoRoot, workspace.slice(0, -2))).map((d) => `${workspace.slice(0, -2)}/${d}`)
          : [workspace];
        for (const dir of dirs.filter((d) => existsSync(join(repoRoot, d, "package.json")))) {
          expect(existsSync(join(context, dir, "package.json")), `${image.source.dockerBuildTarget}: ${dir}`).toBe(
            true,
          );
        }
      }
      // What each image builds from: its own sources and the root's bundler.
      const target = image.source.dockerBuildTarget ?? "";
      expect(existsSync(join(context, target, "src")), target).toBe(true);
      expect(existsSync(join(context, "scripts", "bundle.mjs"))).toBe(true);
      expect(existsSync(join(context, "packages", "core", "src"))).toBe(true);
    }
  });

  it("the Lambda's code is the prebuilt bundle, marked as an ES module, with nothing it cannot load", () => {
    const assets = JSON.parse(readFileSync(join(outdir, "Surge-dev.assets.json"), "utf8")) as AssetManifest;
    const zips = Object.values(assets.files).filter((f) => f.source.packaging === "zip");
    const lambda = zips.map((f) => join(outdir, f.source.path)).find((dir) => existsSync(join(dir, "lambda.js")));
    expect(lambda).toBeDefined();
    const dir = lambda ?? "";
    expect(readdirSync(dir).sort()).toEqual(["lambda.js", "lambda.js.map", "package.json"]);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))).toEqual({ type: "module" });
    expect(unresolvableImports(readFileSync(join(dir, "lambda.js"), "utf8"))).toEqual([]);
  });
});

describe("the Lambda bundle guard", () => {
  it("names packages a bundle imports statically that Lambda's runtime cannot resolve", () => {
    const bundle = [
      "import { createRequire as __cr } from 'node:module';",
      'import { join } from "node:path";',
      'import crypto from "crypto";',
      'import Database from "better-sqlite3";',
      'import { SQSClient } from "@aws-sdk/client-sqs";',
      'import "@scope/side-effect/sub";',
      'const pg = await import("pg-native");',
      'import { x } from "./local.js";',
    ].join("\n");
    expect(unresolvableImports(bundle)).toEqual(["@scope/side-effect", "better-sqlite3"]);
  });
});
