import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { OpsError } from "../src/client/ops-client";
import { AwsCallFailed, awsCallFailure } from "../src/components/workers/AwsCallFailed";

/** The ops API's 502 body, as api/src/aws-error.ts formats it against moto. */
const MESSAGE =
  "AWS call ApplicationAutoScaling.DescribeScalingActivities failed: the endpoint does not implement it (HTTP 500). On AWS, check AWS_ENDPOINT_URL and AWS_REGION point at the real service.";

describe("a panel whose AWS call failed (the ops API's 502)", () => {
  it("is told apart from the console's own 502 (API unreachable) and other errors", () => {
    expect(awsCallFailure(new OpsError(MESSAGE, 502))).toBeInstanceOf(OpsError);
    expect(awsCallFailure(new OpsError("the API is unreachable", 502))).toBeUndefined();
    expect(awsCallFailure(new OpsError(MESSAGE, 500))).toBeUndefined();
    expect(awsCallFailure(new Error(MESSAGE))).toBeUndefined();
  });

  it("shows the call and the remedy in place, without claiming the API is down", () => {
    const html = renderToStaticMarkup(
      createElement(AwsCallFailed, { error: new OpsError(MESSAGE, 502), what: "scaling activities" }),
    );
    expect(html).toContain("Could not load scaling activities");
    expect(html).toContain("ApplicationAutoScaling.DescribeScalingActivities");
    expect(html).toContain("AWS_ENDPOINT_URL");
    expect(html).toContain("The API is up");
    expect(html).toContain('role="alert"');
  });
});
