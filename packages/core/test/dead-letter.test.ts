import { describe, expect, it } from "vitest";
import { readDeadLetter } from "../src/queue.js";

const message = JSON.stringify({ orderId: "0190a5f2-7e1c-7b3a-9d2e-4f5a6b7c8d9e", acceptedAt: "2026-11-26T12:00:00Z" });
const orderId = "0190a5f2-7e1c-7b3a-9d2e-4f5a6b7c8d9e";

describe("readDeadLetter: the order and the reason, whoever wrote the dead letter", () => {
  it("a worker's: the order message with orderId and reason attributes", () => {
    expect(readDeadLetter(message, { orderId, reason: "gave up after 5 receives: declined" })).toEqual({
      orderId,
      reason: "gave up after 5 receives: declined",
    });
  });

  it("SQS's redrive policy: the order message as it was", () => {
    expect(readDeadLetter(message)).toEqual({
      orderId,
      reason: "moved by the queue's redrive policy (maxReceiveCount)",
    });
  });

  it("Lambda's: the SNS event unchanged, the failure in ErrorCode and ErrorMessage", () => {
    const event = JSON.stringify({
      Records: [{ EventSource: "aws:sns", Sns: { Type: "Notification", Message: message } }],
    });
    expect(
      readDeadLetter(event, { RequestID: "r-1", ErrorCode: "200", ErrorMessage: "Task timed out after 30.03 seconds" }),
    ).toEqual({
      orderId,
      reason: "Lambda gave up after its retries (200): Task timed out after 30.03 seconds",
    });
    expect(readDeadLetter(event).reason).toBe("Lambda gave up after its retries: no error message");
  });

  it("SNS's, when it could not invoke the function: the notification envelope", () => {
    const envelope = JSON.stringify({ Type: "Notification", MessageId: "m-1", Message: message });
    expect(readDeadLetter(envelope)).toEqual({ orderId, reason: "SNS could not deliver it to the Lambda function" });
  });

  it("poison: no order to name, whatever the wrapping", () => {
    expect(readDeadLetter("%%garbage")).toEqual({ reason: "moved by the queue's redrive policy (maxReceiveCount)" });
    expect(readDeadLetter("null").orderId).toBeUndefined();
    expect(readDeadLetter(JSON.stringify({ orderId: 42 })).orderId).toBeUndefined();
    expect(readDeadLetter(JSON.stringify({ Records: [{ Sns: { Message: "not json" } }] })).orderId).toBeUndefined();
    expect(readDeadLetter(JSON.stringify({ Records: [] })).orderId).toBeUndefined();
    expect(readDeadLetter(JSON.stringify({ Type: "Notification", Message: { orderId } })).orderId).toBeUndefined();
  });
});
