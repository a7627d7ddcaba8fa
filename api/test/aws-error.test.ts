import { describe, expect, it } from "vitest";
import { AwsCallError, callAws } from "../src/aws-error.js";
import { HttpError } from "../src/http/server.js";

/** An SDK v3 service exception as the clients throw it. */
const serviceError = (name: string, message: string, fault: "client" | "server", status: number) =>
  Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: status } });

const failing = (error: unknown) => () => Promise.reject(error);

describe("callAws: an AWS SDK failure as a 502 naming the call and the remedy", () => {
  it("passes answers through untouched", async () => {
    await expect(callAws("ECS.DescribeServices", async () => ({ services: [] }))).resolves.toEqual({ services: [] });
  });

  it.each([
    [
      "throttled",
      serviceError("ThrottlingException", "Rate exceeded", "client", 400),
      /AWS throttled it \(ThrottlingException\)/,
      /^Retry in a few seconds/,
    ],
    [
      "denied",
      serviceError(
        "AccessDeniedException",
        "User: arn:… is not authorized to perform: ecs:UpdateService",
        "client",
        400,
      ),
      /access denied \(AccessDeniedException: User: arn:… is not authorized/,
      /^Grant the API task role ecs:UpdateService/,
    ],
    [
      "a server fault",
      serviceError("ServerException", "Internal failure", "server", 500),
      /AWS answered a server error \(ServerException: Internal failure\)/,
      /AWS Health Dashboard/,
    ],
    [
      "refused",
      serviceError("ServiceNotFoundException", "Service not found.", "client", 400),
      /AWS refused it \(ServiceNotFoundException: Service not found\.\)/,
      /ECS_CLUSTER, ECS_SERVICE/,
    ],
  ])("%s", async (_what, error, reason, remedy) => {
    const failed = await callAws("ECS.UpdateService", failing(error)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AwsCallError);
    const e = failed as AwsCallError;
    expect(e).toMatchObject({ status: 502, call: "ECS.UpdateService", cause: error });
    expect(e.message).toMatch(/^AWS call ECS\.UpdateService failed: /);
    expect(e.reason).toMatch(reason);
    expect(e.remedy).toMatch(remedy);
    expect(e.message).toContain(e.remedy);
  });

  it("describes an unparseable answer (an unimplemented call) without dumping it", async () => {
    // What the SDK throws when the endpoint answers an HTML page: the raw answer rides in the message.
    const dump = Object.assign(
      new SyntaxError(
        "Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.",
      ),
      { $metadata: { httpStatusCode: 500 }, $response: { statusCode: 500, body: "<!DOCTYPE html><html>…" } },
    );
    const e = (await callAws("ApplicationAutoScaling.DescribeScalingActivities", failing(dump)).catch(
      (x: unknown) => x,
    )) as AwsCallError;
    expect(e.message).toBe(
      `AWS call ApplicationAutoScaling.DescribeScalingActivities failed: the endpoint does not implement it (HTTP 500). ${e.remedy}`,
    );
    expect(e.remedy).toMatch(/AWS_ENDPOINT_URL/);
    expect(e.remedy).toMatch(/describe-scaling-activities/);
    for (const leak of ["$response", "DOCTYPE", "Unexpected token", "Deserialization"]) {
      expect(e.message).not.toContain(leak);
    }
  });

  it("cuts a long service message to one line", async () => {
    const long = serviceError("InvalidParameterException", `${"x".repeat(500)}\nsecond line`, "client", 400);
    const e = (await callAws("ECS.UpdateService", failing(long)).catch((x: unknown) => x)) as AwsCallError;
    expect(e.reason.length).toBeLessThan(260);
    expect(e.message).not.toContain("second line");
  });

  it("lets the ops plane's own HTTP errors through as they are", async () => {
    const own = new HttpError(500, "task definition has no container");
    await expect(callAws("ECS.DescribeTaskDefinition", failing(own))).rejects.toBe(own);
  });
});
