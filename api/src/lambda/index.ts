import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { AwsLambdaInsights } from "./aws.js";
import type { LambdaInsights } from "./insights.js";
import { LocalLambdaInsights } from "./local.js";

export * from "./aws.js";
export * from "./insights.js";
export * from "./local.js";
export * from "./processing.js";

/**
 * The Lambda function this deployment reads: the local runtime when the stack
 * runner gave its control URL, the AWS function when LAMBDA_FUNCTION_NAME
 * names one, none otherwise (orders then go to the workers only).
 */
export function createLambdaInsights(env: {
  LAMBDA_CONTROL_URL?: string | undefined;
  LAMBDA_FUNCTION_NAME?: string | undefined;
  LAMBDA_LOG_GROUP?: string | undefined;
}): LambdaInsights | undefined {
  if (env.LAMBDA_CONTROL_URL) return new LocalLambdaInsights({ controlUrl: env.LAMBDA_CONTROL_URL });
  if (env.LAMBDA_FUNCTION_NAME) {
    return new AwsLambdaInsights({
      logs: new CloudWatchLogsClient({}),
      cloudwatch: new CloudWatchClient({}),
      functionName: env.LAMBDA_FUNCTION_NAME,
      ...(env.LAMBDA_LOG_GROUP && { logGroupName: env.LAMBDA_LOG_GROUP }),
    });
  }
  return undefined;
}
