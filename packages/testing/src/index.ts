export * from "./harness.js";
export * from "./raw-http.js";
export * from "./worker-tasks.js";
