import type { z } from "zod";
import { ValidationError } from "./errors.js";

export interface FieldProblem {
  field: string;
  message: string;
}

/** zod's issues as `{field, message}`, the shape every 400 carries; the field is a dotted path or `body`. */
export function fieldProblems(issues: ReadonlyArray<z.core.$ZodIssue>): FieldProblem[] {
  return issues.map((i) => ({
    field: i.path.length > 0 ? i.path.join(".") : "body",
    message: i.code === "unrecognized_keys" ? `unknown field(s): ${i.keys.join(", ")}` : i.message,
  }));
}

/** Parses an untrusted value, or throws a ValidationError naming every bad field (`what` names the value). */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationError(parsed.error.issues, what);
}

/** A ValidationError for these issues: its message names the first field, its details every one. */
export function validationError(issues: ReadonlyArray<z.core.$ZodIssue>, what: string): ValidationError {
  const details = fieldProblems(issues);
  const first = details[0];
  return new ValidationError(first ? `invalid ${what}: ${first.field}: ${first.message}` : `invalid ${what}`, details);
}
