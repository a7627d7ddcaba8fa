import { ECSClient } from "@aws-sdk/client-ecs";
import type { ApiEnv } from "../env.js";
import { EcsFleet } from "./ecs.js";
import { LocalFleet } from "./local.js";
import type { Fleet } from "./types.js";

export { CachedFleet } from "./cache.js";
export { EcsFleet } from "./ecs.js";
export { LocalFleet } from "./local.js";
export * from "./types.js";

/** FLEET=local → the stack runner's supervisor; FLEET=ecs → the ECS service (standard AWS configuration). */
export function createFleet(env: ApiEnv): Fleet {
  if (env.FLEET === "ecs") {
    return new EcsFleet({
      ecs: new ECSClient({}),
      cluster: env.ECS_CLUSTER ?? "",
      service: env.ECS_SERVICE ?? "",
      containerName: env.ECS_WORKER_CONTAINER,
    });
  }
  return new LocalFleet({ url: env.FLEET_CONTROL_URL, token: env.FLEET_CONTROL_TOKEN });
}
