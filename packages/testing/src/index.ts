export * from "./child.js";
export * from "./harness.js";
export * from "./ports.js";
export * from "./raw-http.js";
export * from "./study.js";
export * from "./suite.js";
export * from "./worker-tasks.js";
