// The API's test kit, for the tests of packages that drive a real API (e2e/).
export * from "./burst-helpers.js";
export * from "./fleet-conformance.js";
export * from "./helpers.js";
