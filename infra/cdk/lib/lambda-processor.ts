import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { StageConfig } from "./config.js";
import { routeTo } from "./messaging.js";
import { LAMBDA_VPC_ACTIONS } from "./permissions.js";

/** The prebuilt bundle (worker/src/lambda/index.ts → worker/dist/lambda.js) and its exports. */
const LAMBDA_BUNDLE_FILE = "lambda.js";
const SNS_HANDLER_EXPORT = "snsHandler";
/** The images' Node.js major too (the Dockerfile's NODE_VERSION): one runtime everywhere. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Init duration percentiles and cold-start share per 5 minutes, saved so the console and on-call share one query. */
export const INIT_DURATION_QUERY = [
  'filter @type = "REPORT"',
  "stats count(*) as invocations, count(@initDuration) as coldStarts, " +
    "100 * count(@initDuration) / count(*) as coldStartPercent, " +
    "pct(@initDuration, 50) as initP50Ms, pct(@initDuration, 95) as initP95Ms, " +
    "pct(@initDuration, 99) as initP99Ms, max(@initDuration) as initMaxMs by bin(5m)",
].join("\n| ");

interface LambdaProcessorProps {
  config: StageConfig;
  /** Directory holding the prebuilt lambda.js (and its source map). */
  bundleDir: string;
  topic: sns.ITopic;
  vpc: ec2.IVpc;
  subnets: ec2.SubnetSelection;
  securityGroup: ec2.ISecurityGroup;
  environment: Record<string, string>;
  timeoutSeconds: number;
  /**
   * The orders dead-letter queue (messaging.ts), the one the workers' orders land in:
   * the API's ops plane reads only that queue, so Lambda's failures must go there too.
   */
  deadLetterQueue: sqs.IQueue;
}

/**
 * The study's Part III: the order processor as a Lambda on the orders topic. Its failures go to the orders DLQ,
 * the one the ops plane reads and redrives; a queue of its own would be one nobody reads.
 */
export class LambdaProcessor extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly initDurationQuery: logs.CfnQueryDefinition;

  constructor(scope: Construct, id: string, props: LambdaProcessorProps) {
    super(scope, id);
    const { config } = props;
    const retain = config.removalPolicy === "retain";
    this.logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName: `/aws/lambda/surge-${config.stage}-order-processor`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Its own role with inline statements instead of AWS's managed Lambda policies, whose
    // logs:* grants cover every log group in the account.
    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "Surge Lambda order processor",
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // EC2 does not scope these to a function.
    role.addToPolicy(new iam.PolicyStatement({ sid: "AttachToVpc", actions: LAMBDA_VPC_ACTIONS, resources: ["*"] }));
    this.function = new lambda.Function(this, "Function", {
      role,
      functionName: `surge-${config.stage}-order-processor`,
      description: "Surge order processor: pays orders delivered by the orders topic",
      runtime: LAMBDA_RUNTIME,
      architecture: config.cpuArchitecture === "arm64" ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      handler: `lambda.${SNS_HANDLER_EXPORT}`,
      code: bundleCode(props.bundleDir),
      memorySize: config.lambdaMemoryMiB,
      timeout: Duration.seconds(props.timeoutSeconds),
      reservedConcurrentExecutions: config.lambdaReservedConcurrency,
      environment: props.environment,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      // The async-invocation DLQ: CDK grants the role sqs:SendMessage on it.
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: 2,
      // An order older than this is better handled by the DLQ's redrive than by a late retry.
      maxEventAge: Duration.hours(1),
    });
    // What SNS cannot even invoke (throttled past its retries) goes to the same DLQ instead of vanishing.
    const subscription = props.topic.addSubscription(
      new subscriptions.LambdaSubscription(this.function, { deadLetterQueue: props.deadLetterQueue }),
    );
    // Only orders the ops plane routes to Lambda (PUT /ops/processing); the rest go to the workers.
    routeTo(subscription, "lambda");
    this.initDurationQuery = new logs.CfnQueryDefinition(this, "InitDurations", {
      name: `surge-${config.stage}/lambda-init-durations`,
      queryString: INIT_DURATION_QUERY,
      logGroupNames: [this.logGroup.logGroupName],
    });
  }
}

/**
 * The prebuilt bundle as the function's code: a local copy, no Docker, plus the package.json
 * that tells Lambda's Node.js runtime the `.js` handler is an ES module.
 */
function bundleCode(bundleDir: string): lambda.Code {
  return lambda.Code.fromAsset(bundleDir, {
    exclude: ["*", `!${LAMBDA_BUNDLE_FILE}`, `!${LAMBDA_BUNDLE_FILE}.map`],
    bundling: {
      image: LAMBDA_RUNTIME.bundlingImage,
      local: {
        tryBundle(outputDir: string): boolean {
          const bundle = join(bundleDir, LAMBDA_BUNDLE_FILE);
          if (!existsSync(bundle)) {
            throw new Error(`${bundle} is missing: run \`npx turbo run build\` first (worker/src/lambda/index.ts)`);
          }
          const missing = unresolvableImports(readFileSync(bundle, "utf8"));
          if (missing.length > 0) {
            throw new Error(
              `${bundle} imports ${missing.join(", ")} at load time, which Lambda's Node.js runtime does not ` +
                "have and the zip does not carry: the function would fail its init. Import it lazily, where it is used.",
            );
          }
          copyFileSync(bundle, join(outputDir, LAMBDA_BUNDLE_FILE));
          if (existsSync(`${bundle}.map`)) copyFileSync(`${bundle}.map`, join(outputDir, `${LAMBDA_BUNDLE_FILE}.map`));
          writeFileSync(join(outputDir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
          return true;
        },
      },
    },
  });
}

/**
 * Packages a bundle imports statically that Lambda cannot resolve (not a built-in, not the AWS SDK v3):
 * one of them, such as the external better-sqlite3, fails every init. Dynamic `import()`s are fine.
 */
export function unresolvableImports(bundle: string): string[] {
  const builtins = new Set(builtinModules);
  const found = new Set<string>();
  for (const m of bundle.matchAll(/^\s*import\s+(?:[^"'();]*?\s+from\s+)?["']([^"']+)["']/gm)) {
    const specifier = m[1] ?? "";
    if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) continue;
    const name = specifier.startsWith("@")
      ? specifier.split("/").slice(0, 2).join("/")
      : (specifier.split("/")[0] ?? "");
    if (builtins.has(name) || name.startsWith("@aws-sdk/")) continue;
    found.add(name);
  }
  return [...found].sort();
}
