import type { ScalingPolicy, ScalingSignal } from "./policy.js";

/** Who sets the desired count now: the autoscaler, or an operator by hand. */
export type Controller = "operator" | "autoscaler";

/** Why dynamic scaling is off although nobody disabled the policy: an operator scaled by hand. */
export interface Suspension {
  at: string;
  /** The operator's token label. */
  by: string;
  reason: string;
}

export interface Evaluation {
  at: string;
  backlog: number;
  running: number;
  desired: number;
  needed: number;
  /** Seconds the oldest order waiting for a task had waited (absent when the store did not say). */
  oldestAgeSeconds?: number;
  /** What drove the need: the backlog, the oldest order's age, or the policy's bounds. */
  signal: ScalingSignal;
  cause: string;
}

/** A sale window's floor on the desired count while it lasts (see api/src/schedule). */
export interface ScheduledFloor {
  windowId: string;
  minTasks: number;
  endsAt: string;
}

export interface AutoscalingState extends ScalingPolicy {
  kind: "local" | "aws";
  controlledBy: Controller;
  /** Present while an operator's manual scale keeps dynamic scaling suspended; enabling the policy clears it. */
  suspended?: Suspension;
  /** Present while a sale window holds the fleet at or above its minimum. */
  scheduledFloor?: ScheduledFloor;
  /** The latest evaluation, acted on or not (local autoscaler only). */
  lastEvaluation?: Evaluation;
}

export type ActivityStatus = "successful" | "failed" | "held" | "in-progress";

/** One entry of the scaling activity log: a scaling action, a held one, or a change of who is in control. */
export interface ScalingActivity {
  id: string;
  at: string;
  /** "autoscaler", or the operator's token label. */
  actor: string;
  direction: "out" | "in" | "none";
  status: ActivityStatus;
  /** Desired count before and after; null where the source does not say (AWS activities have no "before"). */
  from: number | null;
  to: number | null;
  /** In words: "backlog 2,784 over 2 tasks (1,392/task), target 50/task → 56 tasks, capped at max 40". */
  cause: string;
  /** Orders waiting (from the order store) and running tasks when it was decided. */
  backlog?: number;
  running?: number;
  /** Seconds the oldest order waiting for a task had waited when it was decided. */
  oldestAgeSeconds?: number;
  /** What drove it: "backlog", "age" (the oldest order's age) or "bounds" (min/max); absent on control entries. */
  signal?: ScalingSignal;
  /** What SQS's approximate counter said at the same moment: shown, never trusted alone. */
  sqsVisible?: number;
  source: "local" | "aws";
}

export interface ScaledEvent {
  direction: "out" | "in";
  from: number;
  to: number;
}

/** The autoscaler, local or Application Auto Scaling: its policy, who controls the desired count, its activities. */
export interface Autoscaler {
  readonly kind: "local" | "aws";
  state(): Promise<AutoscalingState>;
  /** Applies a validated policy. Enabling it clears a suspension: control goes back to the autoscaler. */
  setPolicy(policy: ScalingPolicy, actor: string): Promise<AutoscalingState>;
  /** An operator set the desired count by hand: dynamic scaling stays off until the policy is enabled again. */
  suspend(actor: string, reason: string): Promise<AutoscalingState>;
  /**
   * A sale window started (its floor) or ended (null). Locally the floor raises the desired count
   * at once and the policy's minimum while it lasts; on AWS, scheduled actions do the scaling and
   * this only records the floor for the manual-scale check.
   */
  setScheduledFloor(floor: ScheduledFloor | null, nowMs?: number): Promise<void>;
  /** The floor in force, if a sale window is active. */
  scheduledFloor(): ScheduledFloor | null;
  /** Newest first. */
  activities(limit: number): Promise<ScalingActivity[]>;
  /** Scaling actions the autoscaler itself took (for metrics); the AWS adapter has none to report. */
  on(event: "scaled", listener: (event: ScaledEvent) => void): unknown;
  start(): void;
  close(): Promise<void>;
}
