// What the end-to-end tests share with these: PromQL helpers and every query the artifacts contain.
export * from "./paths.js";
export * from "./promql.js";
export * from "./queries.js";
