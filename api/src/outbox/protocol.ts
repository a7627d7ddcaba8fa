import type { PublishEntry } from "@surge/core";

/** What the publisher thread is started with. */
export interface PublisherThreadData {
  topicArn: string;
}

/** Main thread → publisher thread: one PublishBatch call. */
export interface PublishRequest {
  seq: number;
  entries: ReadonlyArray<PublishEntry>;
}

/** Publisher thread → main thread: the ids SNS took, or why the call failed. */
export type PublishReply =
  | { seq: number; accepted: string[]; error?: undefined }
  | { seq: number; accepted?: undefined; error: { name: string; message: string } };
