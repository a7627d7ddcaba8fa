// The ops API's wire shapes, for its clients: types, and the one value the console's proxy needs.
export type { AutoscalingState, ScalingActivity } from "./autoscaling/types.js";
export type { LambdaLive, LambdaReportView, LambdaSummary } from "./lambda/insights.js";
export type { AuditEntry } from "./ops/audit.js";
export type { AlertsSection, AlertView } from "./ops/modules/alerts.js";
export type { ScalingSignals } from "./ops/modules/autoscaling.js";
export type { FleetView } from "./ops/modules/fleet.js";
export type { IntakeMode, IntakeView } from "./ops/modules/intake.js";
export type { SchedulesView } from "./ops/modules/schedules.js";
export type { SaleWindowView, WindowState } from "./schedule/windows.js";

/** `GET /ops/cost`'s query parameters (taskVcpu and taskMemoryGb make the task size). */
export const COST_QUERY_KEYS = [
  "ordersPerMonth",
  "paymentDurationMs",
  "memoryMb",
  "lambdaOverheadMs",
  "freeTier",
  "minTasks",
  "slotsPerTask",
  "targetUtilization",
  "taskVcpu",
  "taskMemoryGb",
  "hoursPerMonth",
] as const;
