import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { loadStageConfig } from "../lib/config.js";
import { SurgeStack } from "../lib/surge-stack.js";

// The CDK app, one stack per stage (docs/deploy-aws.md).
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
// No version-reporting resource: the template is the same on every machine, offline.
const app = new App({ analyticsReporting: false });
const config = loadStageConfig((key) => app.node.tryGetContext(key));

const webExists = existsSync(join(repoRoot, "web", "package.json"));
if (config.web === "on" && !webExists) {
  throw new Error("web=on but web/package.json does not exist: the console cannot be built yet (use web=auto)");
}

// Environment-agnostic: no account or region lookups, so synth runs offline and gives one template everywhere.
new SurgeStack(app, `Surge-${config.stage}`, {
  stackName: `surge-${config.stage}`,
  description: `Surge flash-sale order pipeline (${config.stage}): API, workers and Lambda on SNS, SQS, ECS Fargate`,
  config,
  repoRoot,
  lambdaBundleDir: join(repoRoot, "worker", "dist"),
  web: config.web === "on" || (config.web === "auto" && webExists),
});
app.synth();
