import { OpsError } from "../../client/ops-client";

/**
 * The ops API's 502 for an AWS call that failed or that the endpoint lacks: its message names the call
 * (`AWS call ApplicationAutoScaling.DescribeScalingActivities failed: …`) and what the operator can do.
 * Told apart from the console's own 502 (API unreachable) by that prefix, which the API's one error
 * formatter writes (api/src/aws-error.ts).
 */
export function awsCallFailure(error: unknown): OpsError | undefined {
  return error instanceof OpsError && error.status === 502 && error.message.startsWith("AWS call ") ? error : undefined;
}

/** Shown in place of a panel whose AWS call failed: the API is up, and the rest of the page works. */
export function AwsCallFailed({ error, what, retry }: { error: OpsError; what: string; retry?: () => void }) {
  return (
    <div className="state error" role="alert" data-testid="aws-call-failed">
      <strong>Could not load {what}</strong>
      <p style={{ margin: "6px 0" }}>{error.message}</p>
      <p className="muted small">
        The API is up; AWS did not answer this call. Everything else on this page still works.
      </p>
      {retry && (
        <button type="button" className="small" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}
