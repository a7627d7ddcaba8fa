import { ApplicationAutoScalingClient } from "@aws-sdk/client-application-auto-scaling";
import type { Logger, OrderQueue, OrderStore } from "@surge/core";
import type { ApiEnv } from "../env.js";
import { CachedFleet, createFleet } from "../fleet/index.js";
import { AuditLog } from "../ops/audit.js";
import type { OpsModule } from "../ops/context.js";
import { autoscalingModule } from "../ops/modules/autoscaling.js";
import { fleetModule } from "../ops/modules/fleet.js";
import { ActivityLog } from "./activity-log.js";
import { AwsAutoscaler } from "./aws.js";
import { BacklogSource } from "./backlog.js";
import { LocalAutoscaler } from "./local.js";
import type { ScalingPolicy } from "./policy.js";
import type { Autoscaler } from "./types.js";

export { ActivityLog } from "./activity-log.js";
export { AwsAutoscaler } from "./aws.js";
export { BacklogSource } from "./backlog.js";
export { LocalAutoscaler } from "./local.js";
export * from "./policy.js";
export * from "./types.js";

/** The initial policy from AUTOSCALING_* (used until PUT /ops/autoscaling stores one). */
function policyFromEnv(env: ApiEnv): ScalingPolicy {
  return {
    enabled: env.AUTOSCALING_ENABLED,
    minTasks: env.AUTOSCALING_MIN_TASKS,
    maxTasks: env.AUTOSCALING_MAX_TASKS ?? env.MAX_WORKER_TASKS,
    targetBacklogPerTask: env.AUTOSCALING_TARGET_BACKLOG_PER_TASK,
    scaleOutCooldownSeconds: env.AUTOSCALING_SCALE_OUT_COOLDOWN_SECONDS,
    scaleInCooldownSeconds: env.AUTOSCALING_SCALE_IN_COOLDOWN_SECONDS,
    targetOldestAgeSeconds: null,
  };
}

/** The fleet and autoscaler FLEET chooses (local, or ECS with Application Auto Scaling) and their ops modules. */
export function createScaling(
  env: ApiEnv,
  deps: { store: OrderStore; queue?: OrderQueue | undefined; log: Logger },
): { fleet: CachedFleet; autoscaler: Autoscaler; modules: OpsModule[] } {
  const fleet = new CachedFleet(createFleet(env));
  const activities = new ActivityLog(deps.store);
  const backlog = new BacklogSource({ store: deps.store, queue: deps.queue });
  const defaults = policyFromEnv(env);
  const autoscaler: Autoscaler =
    env.FLEET === "ecs"
      ? new AwsAutoscaler({
          client: new ApplicationAutoScalingClient({}),
          cluster: env.ECS_CLUSTER ?? "",
          service: env.ECS_SERVICE ?? "",
          queueName: env.ORDERS_QUEUE,
          store: deps.store,
          activities,
          defaults,
        })
      : new LocalAutoscaler({
          store: deps.store,
          fleet,
          backlog,
          activities,
          audit: new AuditLog(deps.store),
          log: deps.log.child({ component: "autoscaler" }),
          defaults,
          evaluationIntervalMs: env.AUTOSCALING_EVALUATION_INTERVAL_MS,
        });
  const modules = [
    fleetModule({ fleet, autoscaler, activities, maxTasks: env.MAX_WORKER_TASKS }),
    autoscalingModule({
      autoscaler,
      fleet,
      backlog,
      maxTasks: env.MAX_WORKER_TASKS,
      payment: { slots: env.PAYMENT_SLOTS, durationMs: env.PAYMENT_DURATION_MS },
    }),
  ];
  return { fleet, autoscaler, modules };
}
