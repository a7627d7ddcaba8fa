import { HttpError } from "../http/server.js";

/** Where a task is in its life, in ECS's terms folded to three: starting, serving, draining. */
export type FleetTaskStatus = "pending" | "running" | "stopping";

export interface FleetTask {
  taskId: string;
  status: FleetTaskStatus;
  /** ISO time the task was started. */
  startedAt: string;
  /** Orders the task holds now. Known locally (the supervisor hears it over IPC); absent on ECS. */
  inFlight?: number;
  /** Orders the task has settled since it started. Known locally; absent on ECS. */
  processed?: number;
  /** The task's payment circuit breaker (open = processor down, taking no orders). Known locally. */
  circuit?: "closed" | "open" | "half-open";
  /** ECS: the task definition revision the task runs (`family:revision`). */
  revision?: string;
}

/**
 * The fleet as its scheduler reports it (an ECS service, or the local supervisor).
 * `Task` is what each task is described as: FleetTask over the ops API; the local
 * supervisor's snapshot carries its own richer TaskInfo (pid, metrics port).
 */
export interface FleetState<Task = FleetTask> {
  desiredCount: number;
  running: number;
  pending: number;
  /** Tasks draining after a stop (SIGTERM locally, DEACTIVATING/STOPPING on ECS). */
  stopping: number;
  /** Orders each task works on at once (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Tasks that died unasked and were replaced (locally since the stack started; on ECS, failed tasks of live deployments). */
  restarts: number;
  tasks: Task[];
}

/**
 * The worker fleet, local (the stack runner's supervisor) or ECS. Changes are asynchronous, as on ECS:
 * a call returns once the new desired state is accepted, and the running count converges after.
 */
export interface Fleet {
  readonly kind: "local" | "ecs";
  describe(): Promise<FleetState>;
  setDesiredCount(count: number): Promise<FleetState>;
  /**
   * Sets every task's concurrency. Locally it changes live, without a restart;
   * on ECS it is a new task definition revision and a rolling deployment.
   */
  setConcurrency(concurrency: number): Promise<FleetState>;
}

/** The fleet's scheduler did not answer or refused the call: the ops plane answers 503 with the reason. */
export class FleetUnavailableError extends HttpError {
  override readonly name = "FleetUnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
