import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { loadStageConfig } from "../lib/config.js";
import { SurgeStack } from "../lib/surge-stack.js";

/**
 * The CDK app: `npm run synth -w @surge/cdk` (offline) or `npx cdk deploy -c stage=prod`
 * from infra/. One stack per stage; see README.md, "Deploying Surge to AWS".
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
// No version-reporting resource: the template is the same on every machine, offline.
const app = new App({ analyticsReporting: false });
const config = loadStageConfig((key) => app.node.tryGetContext(key));

const webExists = existsSync(join(repoRoot, "web", "package.json"));
if (config.web === "on" && !webExists) {
  throw new Error("web=on but web/package.json does not exist: the console cannot be built yet (use web=auto)");
}

// Environment-agnostic on purpose: no account or region lookups at synth, so `cdk synth`
// runs offline and gives the same template in CI as on a laptop. The region is the one
// `cdk deploy` runs against (AWS_REGION / the profile).
new SurgeStack(app, `Surge-${config.stage}`, {
  stackName: `surge-${config.stage}`,
  description: `Surge flash-sale order pipeline (${config.stage}): API, workers and Lambda on SNS, SQS, ECS Fargate`,
  config,
  repoRoot,
  lambdaBundleDir: join(repoRoot, "worker", "dist"),
  web: config.web === "on" || (config.web === "auto" && webExists),
});
app.synth();
