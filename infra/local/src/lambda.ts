import { join } from "node:path";
import {
  type createAwsClients,
  errorMessage,
  OrderQueue,
  type OrderStore,
  openOrderStore,
  parseOrderMessage,
  type Topology,
} from "@surge/core";
import type { AsyncInvokerOptions } from "@surge/lambda-runtime";
import { type LocalLambdaRuntime, startLocalLambda } from "@surge/lambda-runtime";

/** The stack's Lambda function as `startStack` is asked for it. */
export interface LocalLambdaStackOptions {
  /** LAMBDA_CONTROL_PORT: state, summaries, REPORT lines, /metrics and the Invoke API; 0 = any. */
  controlPort: number;
  /** LAMBDA_RESERVED_CONCURRENCY. */
  reservedConcurrency: number;
  /** LAMBDA_MEMORY_MB. */
  memoryMb: number;
  /** LAMBDA_TIMEOUT_SECONDS. */
  timeoutSeconds: number;
  /** LAMBDA_IDLE_TIMEOUT_SECONDS: how long an idle environment stays warm. */
  idleTimeoutSeconds: number;
  /** Retries, throttle backoff and maximum event age (tests shorten these). */
  async?: AsyncInvokerOptions;
}

interface StackLambdaOptions extends LocalLambdaStackOptions {
  repoRoot: string;
  logDir: string;
  /** The environment the stack gives its children: the function's configuration is picked from it. */
  childEnv: NodeJS.ProcessEnv;
  clients: ReturnType<typeof createAwsClients>;
  topology: Topology;
  visibilityTimeoutSeconds: number;
  /** The function module. Default `<repoRoot>/worker/dist/lambda.js`. */
  handlerModule?: string;
  /** The runtime's bootstrap. Default `<repoRoot>/infra/lambda-runtime/dist/bootstrap.js`. */
  bootstrapScript?: string;
  /** Long-poll wait on the subscription queue, in seconds. Default 20. */
  waitTimeSeconds?: number;
}

export interface StackLambda {
  runtime: LocalLambdaRuntime;
  close(): Promise<void>;
}

/** What the function is configured with: the order settings, nothing else from the stack's environment. */
const FUNCTION_VARIABLES = [
  "DATA_DIR",
  "DATABASE_URL",
  "PAYMENT_DURATION_MS",
  "PAYMENT_SLOTS",
  "PAYMENT_FAILURE_RATE",
  "MAX_RECEIVE_COUNT",
  "LOG_LEVEL",
] as const;

/**
 * The stack's Lambda function: worker/dist/lambda.js's snsHandler, fed by the
 * topic's Lambda subscription. An event that fails its attempts (or outlives
 * its maximum age) goes where a failed order from the workers goes: to the
 * orders DLQ with its reason, and the order is marked dead in the store, so
 * the console's DLQ view and redrive treat both paths alike.
 */
export async function startStackLambda(options: StackLambdaOptions): Promise<StackLambda> {
  const lambdaQueueUrl = options.topology.lambdaQueueUrl;
  if (!lambdaQueueUrl) throw new Error("the topology has no Lambda subscription queue (ensureTopology lambdaQueue)");
  const environment: Record<string, string> = {
    // The lease an invocation holds on its order: the function's timeout bounds it.
    LAMBDA_LEASE_MS: String(options.timeoutSeconds * 1000),
  };
  for (const name of FUNCTION_VARIABLES) {
    const value = options.childEnv[name];
    if (value !== undefined && value !== "") environment[name] = value;
  }
  const store: OrderStore = openOrderStore({
    databaseUrl: environment.DATABASE_URL,
    dataDir: environment.DATA_DIR ?? "./var",
  });
  const dlq = new OrderQueue(options.clients.sqs, options.topology.queueUrl, options.topology.dlqUrl);

  const runtime = await startLocalLambda({
    function: {
      functionName: "surge-orders",
      handlerModule: options.handlerModule ?? join(options.repoRoot, "worker/dist/lambda.js"),
      handlerName: "snsHandler",
      bootstrapScript: options.bootstrapScript ?? join(options.repoRoot, "infra/lambda-runtime/dist/bootstrap.js"),
      memoryMb: options.memoryMb,
      timeoutSeconds: options.timeoutSeconds,
      reservedConcurrency: options.reservedConcurrency,
      idleTimeoutMs: options.idleTimeoutSeconds * 1000,
      environment,
      logFile: join(options.logDir, "lambda-surge-orders.log"),
    },
    ...(options.async && { async: options.async }),
    sns: {
      sqs: options.clients.sqs,
      queueUrl: lambdaQueueUrl,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      ...(options.waitTimeSeconds !== undefined && { waitTimeSeconds: options.waitTimeSeconds }),
    },
    controlPort: options.controlPort,
    async onDeadLetter(record, body, reason) {
      const message = record?.Sns.Message ?? body;
      let orderId: string | undefined;
      try {
        orderId = parseOrderMessage(message).orderId;
      } catch {
        // Not an order message: it goes to the DLQ as it is, with the reason.
      }
      const why = `lambda: ${reason}`;
      await dlq.sendToDlq(message, why, orderId);
      if (orderId) await store.markDead(orderId, why);
    },
    onError(error, where) {
      console.error(`surge: lambda ${where}: ${errorMessage(error)}`);
    },
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });

  let closing: Promise<void> | undefined;
  return {
    runtime,
    close() {
      closing ??= (async () => {
        await runtime.close();
        await store.close();
      })();
      return closing;
    },
  };
}
