import { randomBytes } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SNSEventRecord } from "aws-lambda";
import { AsyncInvoker, type AsyncInvokerOptions } from "./async-invoker.js";
import { type LambdaControlServer, startLambdaControl } from "./control.js";
import { LocalLambdaFunction, type LocalLambdaOptions } from "./function.js";
import { createLambdaMetrics } from "./metrics.js";
import { SnsQueueSource } from "./sns-source.js";

export { AsyncInvoker, type AsyncInvokerOptions, type AsyncOutcome } from "./async-invoker.js";
export type { LambdaControlServer, LambdaControlState } from "./control.js";
export {
  type InvocationResult,
  LocalLambdaFunction,
  type LocalLambdaOptions,
  TooManyRequestsError,
} from "./function.js";
export { billedDurationMs, type InitializationType, type LambdaReport, parseReportLine, reportLine } from "./report.js";
export { snsEventFromEnvelope } from "./sns-source.js";
export { durationStats, type LambdaWindowSummary, percentile, summarize } from "./summary.js";

interface LocalLambdaRuntimeOptions {
  function: LocalLambdaOptions;
  async?: AsyncInvokerOptions;
  /** The SNS subscription queue to take events from; without it, only the Invoke API feeds the function. */
  sns?: {
    sqs: SQSClient;
    queueUrl: string;
    subscriptionArn?: string;
    visibilityTimeoutSeconds?: number;
    /** Long-poll wait, in seconds. Default 20. */
    waitTimeSeconds?: number;
  };
  /** Where an event goes after its last attempt or its maximum age (the orders DLQ, the order marked dead). */
  onDeadLetter(record: SNSEventRecord | undefined, body: string, reason: string): Promise<void>;
  onError?(error: unknown, where: string): void;
  /** LAMBDA_CONTROL_PORT; 0 = any free port. */
  controlPort: number;
}

export interface LocalLambdaRuntime {
  fn: LocalLambdaFunction;
  invoker: AsyncInvoker;
  source: SnsQueueSource | undefined;
  control: LambdaControlServer;
  /** The Invoke API's bearer token. */
  controlToken: string;
  close(): Promise<void>;
}

/**
 * The local Lambda runtime the stack runner hosts: the function (execution
 * environments as child processes), its async invoker (retries, throttling,
 * DLQ), the SNS subscription it is fed by, its metrics, and the loopback
 * control endpoint the API and Prometheus read.
 */
export async function startLocalLambda(options: LocalLambdaRuntimeOptions): Promise<LocalLambdaRuntime> {
  const fn = new LocalLambdaFunction({
    ...options.function,
    provisionedConcurrency: options.function.provisionedConcurrency ?? provisionedFromEnv(),
  });
  const invoker = new AsyncInvoker(fn, options.async);
  const { registry } = createLambdaMetrics(fn, invoker);
  const source = options.sns
    ? new SnsQueueSource({
        sqs: options.sns.sqs,
        queueUrl: options.sns.queueUrl,
        ...(options.sns.subscriptionArn !== undefined && { subscriptionArn: options.sns.subscriptionArn }),
        ...(options.sns.visibilityTimeoutSeconds !== undefined && {
          visibilityTimeoutSeconds: options.sns.visibilityTimeoutSeconds,
        }),
        ...(options.sns.waitTimeSeconds !== undefined && { waitTimeSeconds: options.sns.waitTimeSeconds }),
        invoker,
        onDeadLetter: options.onDeadLetter,
        ...(options.onError && { onError: options.onError }),
      })
    : undefined;
  const controlToken = randomBytes(24).toString("base64url");
  let control: LambdaControlServer;
  try {
    control = await startLambdaControl({
      fn,
      invoker,
      source,
      registry,
      port: options.controlPort,
      token: controlToken,
    });
  } catch (error) {
    await fn.close();
    throw error;
  }
  source?.start();

  let closing: Promise<void> | undefined;
  return {
    fn,
    invoker,
    source,
    control,
    controlToken,
    close() {
      // Stop taking events, let invocations in flight finish, then end the environments.
      closing ??= (async () => {
        await source?.close();
        await invoker.close();
        await fn.close();
        await control.close();
      })();
      return closing;
    },
  };
}

/** LAMBDA_PROVISIONED_CONCURRENCY: provisioned environments the runtime keeps from its start. Default 0. */
function provisionedFromEnv(): number {
  const raw = process.env.LAMBDA_PROVISIONED_CONCURRENCY;
  if (raw === undefined || raw.trim() === "") return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`LAMBDA_PROVISIONED_CONCURRENCY must be an integer ≥ 0, got ${JSON.stringify(raw)}`);
  }
  return value;
}
