import { ApplicationAutoScalingClient } from "@aws-sdk/client-application-auto-scaling";
import type { Logger, OrderStore } from "@surge/core";
import type { Autoscaler } from "../autoscaling/types.js";
import type { ApiEnv } from "../env.js";
import { LocalLambdaInsights } from "../lambda/local.js";
import type { OpsModule } from "../ops/context.js";
import { schedulesModule } from "../ops/modules/schedules.js";
import { AwsScheduledCapacity, LocalScheduledCapacity, type ScheduledCapacity } from "./capacity.js";
import { SaleScheduler } from "./scheduler.js";

export { AwsScheduledCapacity, atSchedule, LocalScheduledCapacity } from "./capacity.js";
export { SaleScheduler } from "./scheduler.js";
export * from "./windows.js";

/** Sale windows (`/ops/schedules`) and the scheduler that applies them; FLEET=ecs books them on AWS too. */
export function createSchedules(
  env: ApiEnv,
  deps: { store: OrderStore; autoscaler: Autoscaler; log: Logger },
): { scheduler: SaleScheduler; module: OpsModule } {
  const capacity: ScheduledCapacity =
    env.FLEET === "ecs"
      ? new AwsScheduledCapacity({
          client: new ApplicationAutoScalingClient({}),
          cluster: env.ECS_CLUSTER ?? "",
          service: env.ECS_SERVICE ?? "",
          lambdaFunction: env.LAMBDA_FUNCTION_NAME,
        })
      : new LocalScheduledCapacity({ lambdaControlUrl: env.LAMBDA_CONTROL_URL });
  const scheduler = new SaleScheduler({
    store: deps.store,
    autoscaler: deps.autoscaler,
    // On AWS, Application Auto Scaling sets provisioned concurrency on the alias (capacity.ts).
    ...(env.FLEET !== "ecs" &&
      env.LAMBDA_CONTROL_URL && { lambda: new LocalLambdaInsights({ controlUrl: env.LAMBDA_CONTROL_URL }) }),
    log: deps.log.child({ component: "schedule" }),
  });
  const module = schedulesModule({
    store: deps.store,
    scheduler,
    capacity,
    autoscaler: deps.autoscaler,
    maxTasks: env.MAX_WORKER_TASKS,
  });
  return { scheduler, module };
}
