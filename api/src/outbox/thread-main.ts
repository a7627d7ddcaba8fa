/**
 * The publisher thread's entry point: a real OrderTopic (SNS client from the standard AWS SDK
 * configuration in this thread's environment) serving PublishBatch requests from the API's main
 * thread. See PublisherThread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createAwsClients, errorMessage, OrderTopic } from "@surge/core";
import type { PublisherThreadData, PublishReply, PublishRequest } from "./protocol.js";

const port = parentPort;
if (!port) throw new Error("thread-main.ts runs as a worker thread (PublisherThread starts it)");
const { topicArn } = workerData as PublisherThreadData;
const topic = new OrderTopic(createAwsClients().sns, topicArn);

port.on("message", (request: PublishRequest) => {
  topic.publishBatch(request.entries).then(
    (accepted) => port.postMessage({ seq: request.seq, accepted: [...accepted] } satisfies PublishReply),
    (error: unknown) =>
      port.postMessage({
        seq: request.seq,
        error: { name: error instanceof Error ? error.name : "Error", message: errorMessage(error) },
      } satisfies PublishReply),
  );
});
