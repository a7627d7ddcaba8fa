import { HttpError } from "./http/server.js";

/**
 * An AWS call the ops plane depends on failed, or the endpoint lacks it: the ops API answers 502 naming
 * the call (`ApplicationAutoScaling.DescribeScalingActivities`) and what the operator can do. Created
 * where the SDK error enters (`callAws`), which stays as `cause` for the logs; its text never reaches a
 * response, since an SDK deserialization error is a dump of the raw HTTP answer.
 */
export class AwsCallError extends HttpError {
  override readonly name = "AwsCallError";
  /** `Service.Operation`, as AWS's API reference names it. */
  readonly call: string;
  /** Why, in one phrase the operator can act on. */
  readonly reason: string;
  /** What the operator can do about it. */
  readonly remedy: string;

  constructor(call: string, reason: string, remedy: string, options?: { cause?: unknown }) {
    super(502, `AWS call ${call} failed: ${reason}. ${remedy}`);
    this.call = call;
    this.reason = reason;
    this.remedy = remedy;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** What the SDK v3 attaches to a service exception (and, partly, to a deserialization failure). */
interface SdkErrorShape {
  name?: string;
  message?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  code?: string;
}

/** The IAM action prefix of each service the ops plane calls. */
const IAM_PREFIX: Record<string, string> = {
  ECS: "ecs",
  ApplicationAutoScaling: "application-autoscaling",
  CloudWatch: "cloudwatch",
  CloudWatchLogs: "logs",
};

const THROTTLED = /Throttl|TooManyRequests|RequestLimitExceeded|LimitExceeded/;
const DENIED =
  /AccessDenied|UnauthorizedOperation|NotAuthorized|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|InvalidSignature|SignatureDoesNotMatch/;
const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|TimeoutError|socket hang up|fetch failed/;

/**
 * Classifies an SDK error into a reason and a remedy. Only a modeled service exception's own message
 * (AWS's words, one line) is quoted; anything else is described, never dumped.
 */
export function describeAwsFailure(call: string, error: unknown): { reason: string; remedy: string } {
  const e = (error ?? {}) as SdkErrorShape;
  const name = typeof e.name === "string" ? e.name : "";
  const message = typeof e.message === "string" ? e.message : String(error);
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const [service = "", operation = ""] = call.split(".");
  const action = `${IAM_PREFIX[service] ?? service.toLowerCase()}:${operation}`;
  const raw = message.includes("$response") || /Deserialization error|Unexpected token|is not valid JSON/.test(message);
  if (raw || status === 404 || name === "UnknownOperationException" || /not (yet )?implemented/i.test(message)) {
    return {
      reason: `the endpoint does not implement it${status ? ` (HTTP ${status})` : ""}`,
      remedy:
        "On AWS, check AWS_ENDPOINT_URL and AWS_REGION point at the real service; an emulator such as moto lacks this call, so this panel has no data there (docs/testing.md lists the calls it lacks).",
    };
  }
  if (UNREACHABLE.test(`${name} ${e.code ?? ""} ${message}`)) {
    return {
      reason: "the endpoint did not answer",
      remedy:
        "Check the API task reaches AWS (NAT gateway or VPC endpoint, security group egress) and that AWS_ENDPOINT_URL, if set, is right; then retry.",
    };
  }
  const quoted = oneLine(message);
  if (THROTTLED.test(name)) {
    return {
      reason: `AWS throttled it (${name})`,
      remedy: "Retry in a few seconds; the console refreshes on its own.",
    };
  }
  if (DENIED.test(name)) {
    return {
      reason: `access denied (${name}: ${quoted})`,
      remedy: `Grant the API task role ${action} (infra/cdk/lib/permissions.ts) or check its credentials.`,
    };
  }
  if (e.$fault === "server" || (status !== undefined && status >= 500)) {
    return {
      reason: `AWS answered a server error (${name || `HTTP ${status}`}: ${quoted})`,
      remedy: "Retry shortly; if it persists, check the AWS Health Dashboard for the region.",
    };
  }
  if (e.$fault === "client") {
    return {
      reason: `AWS refused it (${name}: ${quoted})`,
      remedy:
        "Check the resource names the API was given (ECS_CLUSTER, ECS_SERVICE, queue and function names) exist in this account and region.",
    };
  }
  return {
    reason: `unexpected error (${name || "Error"}: ${quoted})`,
    remedy: "Retry; if it persists, the API's log has the full error under this call's name.",
  };
}

/** AWS's own messages are one sentence; anything longer is cut so no payload reaches an answer. */
function oneLine(message: string): string {
  const line = (message.split("\n")[0] ?? "").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Runs one AWS SDK call; a failure becomes an AwsCallError naming `call` (`Service.Operation`). */
export async function callAws<T>(call: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const { reason, remedy } = describeAwsFailure(call, error);
    const elsewhere = ELSEWHERE[call];
    throw new AwsCallError(call, reason, elsewhere ? `${remedy} Meanwhile: ${elsewhere}` : remedy, { cause: error });
  }
}

/** Where an operator finds the same facts while the ops API cannot read them. */
const ELSEWHERE: Record<string, string> = {
  "ApplicationAutoScaling.DescribeScalingActivities":
    "`aws application-autoscaling describe-scaling-activities --service-namespace ecs`, or the ECS service's Events tab.",
  "ECS.DescribeServices": "`aws ecs describe-services`, or the ECS console's service page.",
  "ECS.UpdateService":
    "`aws ecs update-service --desired-count N` changes the fleet directly (and is not audited here).",
  "CloudWatch.GetMetricData": "the SQS and Lambda metrics in the CloudWatch console.",
};
