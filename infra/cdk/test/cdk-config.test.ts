import { describe, expect, it } from "vitest";
import { loadStageConfig, type StageConfig } from "../lib/config.js";
import {
  lambdaTimeoutSeconds,
  MAX_VISIBILITY_TIMEOUT_SECONDS,
  secondsPerOrderPerTask,
  targetBacklogPerTask,
  visibilityTimeoutSeconds,
  workerStopTimeoutSeconds,
} from "../lib/sizing.js";
import { cdkJsonContext } from "./cdk-harness.js";

const context =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];

const defaults = (): StageConfig => loadStageConfig(context({}));

describe("sizing: the numbers derived from the study's physics", () => {
  const study = { paymentDurationMs: 3000, paymentSlots: 5, workerConcurrency: 5 };

  it("visibility timeout = ceil(2 × ceil(concurrency ÷ slots) × payment) + 10 s, not SQS's 30 s default", () => {
    expect(visibilityTimeoutSeconds(study)).toBe(16);
    // The study's 100 goroutines per task: 20 payment rounds before the last order's turn ends.
    expect(visibilityTimeoutSeconds({ ...study, workerConcurrency: 100 })).toBe(130);
    // Fewer orders than slots still wait one round.
    expect(visibilityTimeoutSeconds({ ...study, workerConcurrency: 1 })).toBe(16);
    expect(visibilityTimeoutSeconds({ ...study, workerConcurrency: 6 })).toBe(22);
    expect(visibilityTimeoutSeconds({ ...study, paymentDurationMs: 250 })).toBe(11);
  });

  it("visibility timeout never exceeds SQS's 12-hour ceiling", () => {
    expect(visibilityTimeoutSeconds({ paymentDurationMs: 600_000, paymentSlots: 1, workerConcurrency: 200 })).toBe(
      MAX_VISIBILITY_TIMEOUT_SECONDS,
    );
  });

  it("target backlog per task = acceptable latency ÷ time per order (AWS's SQS scaling guidance)", () => {
    expect(secondsPerOrderPerTask(study)).toBeCloseTo(0.6);
    expect(targetBacklogPerTask({ ...study, acceptableLatencySeconds: 30 })).toBe(50);
    // A task with fewer orders in flight than slots pays only that many at once.
    expect(targetBacklogPerTask({ ...study, workerConcurrency: 2, acceptableLatencySeconds: 30 })).toBe(20);
    expect(targetBacklogPerTask({ ...study, paymentDurationMs: 600_000, acceptableLatencySeconds: 1 })).toBe(1);
  });

  it("the worker's stopTimeout outlasts its shutdown deadline, within Fargate's 120 s", () => {
    expect(workerStopTimeoutSeconds({ shutdownDeadlineMs: 25_000 })).toBe(30);
    expect(workerStopTimeoutSeconds({ shutdownDeadlineMs: 25_001 })).toBe(31);
    expect(() => workerStopTimeoutSeconds({ shutdownDeadlineMs: 116_000 })).toThrow(/Fargate allows 120 s/);
  });

  it("the Lambda timeout covers two payments and the margin", () => {
    expect(lambdaTimeoutSeconds({ paymentDurationMs: 3000 })).toBe(16);
  });
});

describe("stage configuration from CDK context", () => {
  it("defaults to the study's task size and physics", () => {
    const c = defaults();
    expect(c).toMatchObject({
      stage: "dev",
      taskCpu: 256,
      taskMemoryMiB: 512,
      paymentDurationMs: 3000,
      paymentSlots: 5,
      workerConcurrency: 5,
      workerMinTasks: 1,
      workerMaxTasks: 50,
      shutdownDeadlineMs: 25_000,
      maxReceiveCount: 5,
      queueRetentionDays: 4,
      lambdaMemoryMiB: 512,
    });
  });

  it("takes a stage's overrides from cdk.json, then single -c values (strings) over them", () => {
    const base = cdkJsonContext();
    const prod = loadStageConfig(context({ ...base, stage: "prod" }));
    expect(prod).toMatchObject({ stage: "prod", natGateways: 2, dbMultiAz: true, removalPolicy: "retain" });
    const overridden = loadStageConfig(
      context({
        ...base,
        stage: "prod",
        workerMaxTasks: "40",
        dbMultiAz: "false",
        taskCpu: "512",
        taskMemoryMiB: "1024",
      }),
    );
    expect(overridden).toMatchObject({ workerMaxTasks: 40, dbMultiAz: false, taskCpu: 512, taskMemoryMiB: 1024 });
  });

  it("names every bad key in one error", () => {
    const bad = () => loadStageConfig(context({ workerMinTasks: "0", paymentSlots: "five", logRetentionDays: "10" }));
    expect(bad).toThrow(/^invalid CDK context for stage "dev"/);
    expect(bad).toThrow(/\n {2}workerMinTasks: Too small/);
    expect(bad).toThrow(/\n {2}paymentSlots: .*number/);
    expect(bad).toThrow(/\n {2}logRetentionDays: must be a retention CloudWatch Logs supports/);
  });

  it("rejects a misspelt key in a stage's overrides instead of ignoring it", () => {
    expect(() => loadStageConfig(context({ stage: "qa", stages: { qa: { workerMaxTask: 10 } } }))).toThrow(
      /workerMaxTask/,
    );
  });

  it("rejects min tasks over max tasks", () => {
    expect(() => loadStageConfig(context({ workerMinTasks: 5, workerMaxTasks: 4 }))).toThrow(
      /workerMinTasks: must not exceed workerMaxTasks \(4\)/,
    );
  });

  it("accepts only Fargate's CPU and memory combinations", () => {
    expect(() => loadStageConfig(context({ taskCpu: 256, taskMemoryMiB: 4096 }))).toThrow(
      /taskMemoryMiB: with taskCpu 256 must be 512–2048 in steps of 512/,
    );
    expect(() => loadStageConfig(context({ taskCpu: 300 }))).toThrow(/taskCpu: must be one of 256, 512/);
  });

  it("rejects a shutdown deadline shorter than a payment", () => {
    expect(() => loadStageConfig(context({ shutdownDeadlineMs: 2000 }))).toThrow(
      /shutdownDeadlineMs: must be at least paymentDurationMs \(3000\)/,
    );
  });

  it("rejects a stage name that cannot prefix resource names", () => {
    expect(() => loadStageConfig(context({ stage: "Prod_1" }))).toThrow(/stage: must be 2–12 characters/);
  });
});
