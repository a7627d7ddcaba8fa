// The ops API's wire shapes, for its clients (the console imports these as types only).
export type { AutoscalingState, ScalingActivity } from "./autoscaling/types.js";
export type { LambdaLive, LambdaReportView, LambdaSummary } from "./lambda/insights.js";
export type { AuditEntry } from "./ops/audit.js";
export type { AlertsSection, AlertView } from "./ops/modules/alerts.js";
export type { ScalingSignals } from "./ops/modules/autoscaling.js";
export type { FleetView } from "./ops/modules/fleet.js";
