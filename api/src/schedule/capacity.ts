import {
  type ApplicationAutoScalingClient,
  DeleteScheduledActionCommand,
  ObjectNotFoundException,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
  type ScalableDimension,
  type ServiceNamespace,
} from "@aws-sdk/client-application-auto-scaling";
import type { SaleWindow } from "@surge/core";
import { callAws } from "../aws-error.js";

/** The autoscaling policy's bounds the fleet returns to when a window ends. */
export interface PolicyBounds {
  minTasks: number;
  maxTasks: number;
}

/** What a booked or cancelled window means for the platform, beyond the store. */
export interface ScheduledCapacity {
  readonly kind: "local" | "aws";
  /** A window was booked: on AWS, its scheduled actions are put. */
  booked(window: SaleWindow, policy: PolicyBounds): Promise<void>;
  /** A window was cancelled: on AWS, its scheduled actions go, and an active one's capacity is given back. */
  cancelled(window: SaleWindow, policy: PolicyBounds, wasActive: boolean): Promise<void>;
  /** What happens to `lambdaProvisionedConcurrency` here, in words for the operator. */
  readonly lambdaNote: string;
}

/**
 * Locally the scheduler in the API process does everything, the local Lambda runtime's
 * provisioned concurrency included (LAMBDA_CONTROL_URL): nothing else to book.
 */
export class LocalScheduledCapacity implements ScheduledCapacity {
  readonly kind = "local" as const;
  readonly lambdaNote: string;
  constructor(options: { lambdaControlUrl?: string | undefined } = {}) {
    this.lambdaNote = options.lambdaControlUrl
      ? "set on the local Lambda runtime at the start (its environments initialise ahead of the sale), back to its own LAMBDA_PROVISIONED_CONCURRENCY at the end"
      : "recorded only: the local Lambda runtime is not configured (LAMBDA_CONTROL_URL), so nothing is pre-warmed";
  }
  async booked(): Promise<void> {}
  async cancelled(): Promise<void> {}
}

interface Target {
  ServiceNamespace: ServiceNamespace;
  ScalableDimension: ScalableDimension;
  ResourceId: string;
}

interface AwsScheduledCapacityOptions {
  client: ApplicationAutoScalingClient;
  /** The ECS cluster and worker service (names or ARNs). */
  cluster: string;
  service: string;
  /** LAMBDA_FUNCTION_NAME as `name:alias`: provisioned concurrency lives on an alias. */
  lambdaFunction?: string | undefined;
}

/**
 * Application Auto Scaling scheduled actions: at the start, Min/MaxCapacity of the worker service
 * raised to the window's minimum (Max only as far as needed), at the end back to the policy's;
 * provisioned concurrency on the Lambda alias the same way, both run by AWS, not by this process.
 */
export class AwsScheduledCapacity implements ScheduledCapacity {
  readonly kind = "aws" as const;
  readonly lambdaNote: string;
  readonly #o: AwsScheduledCapacityOptions;
  readonly #service: Target;
  readonly #lambda: Target | undefined;

  constructor(options: AwsScheduledCapacityOptions) {
    this.#o = options;
    this.#service = {
      ServiceNamespace: "ecs",
      ScalableDimension: "ecs:service:DesiredCount",
      ResourceId: `service/${last(options.cluster)}/${last(options.service)}`,
    };
    const [name, alias] = (options.lambdaFunction ?? "").split(":");
    this.#lambda =
      name && alias
        ? {
            ServiceNamespace: "lambda",
            ScalableDimension: "lambda:function:ProvisionedConcurrency",
            ResourceId: `function:${name}:${alias}`,
          }
        : undefined;
    this.lambdaNote = this.#lambda
      ? `scheduled on ${this.#lambda.ResourceId}: provisioned at the start, released at the end (Application Auto Scaling)`
      : "recorded only: LAMBDA_FUNCTION_NAME names no alias (name:alias), and provisioned concurrency lives on an alias";
  }

  async booked(window: SaleWindow, policy: PolicyBounds): Promise<void> {
    await this.#put(this.#service, window, "start", window.startsAtMs, {
      MinCapacity: window.minTasks,
      MaxCapacity: Math.max(policy.maxTasks, window.minTasks),
    });
    await this.#put(this.#service, window, "end", window.endsAtMs, {
      MinCapacity: policy.minTasks,
      MaxCapacity: policy.maxTasks,
    });
    const pc = window.lambdaProvisionedConcurrency;
    if (pc === null || !this.#lambda) return;
    const lambda = this.#lambda;
    // A scheduled action needs a registered target; 0..pc until the start raises the minimum.
    await callAws("ApplicationAutoScaling.RegisterScalableTarget", () =>
      this.#o.client.send(new RegisterScalableTargetCommand({ ...lambda, MinCapacity: 0, MaxCapacity: pc })),
    );
    await this.#put(lambda, window, "start", window.startsAtMs, { MinCapacity: pc, MaxCapacity: pc });
    await this.#put(lambda, window, "end", window.endsAtMs, { MinCapacity: 0, MaxCapacity: 0 });
  }

  async cancelled(window: SaleWindow, policy: PolicyBounds, wasActive: boolean): Promise<void> {
    const targets =
      window.lambdaProvisionedConcurrency !== null && this.#lambda ? [this.#service, this.#lambda] : [this.#service];
    for (const target of targets) {
      for (const edge of ["start", "end"] as const) {
        await callAws("ApplicationAutoScaling.DeleteScheduledAction", async () => {
          try {
            await this.#o.client.send(
              new DeleteScheduledActionCommand({ ...target, ScheduledActionName: actionName(window, edge) }),
            );
          } catch (error) {
            // Already gone (ran and expired, or deleted by hand): the goal is reached.
            if (!(error instanceof ObjectNotFoundException)) throw error;
          }
        });
      }
    }
    if (!wasActive) return;
    // The start action already ran: give the capacity back now rather than at the cancelled end.
    await callAws("ApplicationAutoScaling.RegisterScalableTarget", () =>
      this.#o.client.send(
        new RegisterScalableTargetCommand({
          ...this.#service,
          MinCapacity: policy.minTasks,
          MaxCapacity: policy.maxTasks,
        }),
      ),
    );
    const lambda = this.#lambda;
    if (window.lambdaProvisionedConcurrency !== null && lambda) {
      await callAws("ApplicationAutoScaling.RegisterScalableTarget", () =>
        this.#o.client.send(new RegisterScalableTargetCommand({ ...lambda, MinCapacity: 0, MaxCapacity: 0 })),
      );
    }
  }

  #put(
    target: Target,
    window: SaleWindow,
    edge: "start" | "end",
    atMs: number,
    action: { MinCapacity: number; MaxCapacity: number },
  ): Promise<unknown> {
    return callAws("ApplicationAutoScaling.PutScheduledAction", () =>
      this.#o.client.send(
        new PutScheduledActionCommand({
          ...target,
          ScheduledActionName: actionName(window, edge),
          Schedule: atSchedule(atMs),
          ScalableTargetAction: action,
        }),
      ),
    );
  }
}

export function actionName(window: SaleWindow, edge: "start" | "end"): string {
  return `surge-sale-${window.id}-${edge}`;
}

/** Application Auto Scaling's one-time schedule, in UTC to the second: `at(2026-11-27T09:00:00)`. */
export function atSchedule(ms: number): string {
  return `at(${new Date(ms).toISOString().slice(0, 19)})`;
}

function last(nameOrArn: string): string {
  return nameOrArn.split("/").pop() ?? nameOrArn;
}
