import { describe, expect, it } from "vitest";
import { z } from "zod";
import { intVar, numberVar, parseEnv, sharedEnvShape } from "../src/env.js";

const shared = z.object(sharedEnvShape);
const failure = (env: NodeJS.ProcessEnv) => {
  try {
    parseEnv(shared, env);
  } catch (error) {
    return (error as Error).message;
  }
  return "parsed";
};

describe("environment variables", () => {
  it("names the variable, the value and what is expected", () => {
    expect(failure({ PAYMENT_SLOTS: "abc" })).toContain(
      'PAYMENT_SLOTS: "abc" is not a whole number; expected 1 to 1000',
    );
    expect(failure({ PAYMENT_SLOTS: "2.5" })).toContain(
      'PAYMENT_SLOTS: "2.5" is not a whole number; expected 1 to 1000',
    );
    expect(failure({ PAYMENT_SLOTS: "0" })).toContain('PAYMENT_SLOTS: "0" is out of range; expected 1 to 1000');
    expect(failure({ PAYMENT_FAILURE_RATE: "half" })).toContain(
      'PAYMENT_FAILURE_RATE: "half" is not a number; expected 0 to 1',
    );
    expect(failure({ PAYMENT_SLOTS: "abc" })).not.toMatch(/NaN|received/);
  });

  it("lists every bad variable at once", () => {
    const message = failure({ PAYMENT_SLOTS: "abc", MAX_RECEIVE_COUNT: "-1" });
    expect(message).toContain("PAYMENT_SLOTS:");
    expect(message).toContain('MAX_RECEIVE_COUNT: "-1" is out of range; expected 1 to 1000');
  });

  it("reads numbers as before: defaults when unset, numbers as given", () => {
    const env = parseEnv(z.object({ A: intVar(7, 0, 10), B: numberVar(0.5, 0, 1), C: intVar(1, 0, 10) }), {
      A: " 3 ",
      C: undefined,
    });
    expect(env).toEqual({ A: 3, B: 0.5, C: 1 });
    expect(parseEnv(z.object({ A: intVar(7, 0, 10) }), { A: 4 as unknown as string })).toEqual({ A: 4 });
  });
});
