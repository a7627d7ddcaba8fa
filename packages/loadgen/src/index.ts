export * from "./clock.js";
export * from "./engine.js";
export * from "./histogram.js";
export * from "./random.js";
export * from "./report.js";
export * from "./spec.js";
export * from "./target.js";
