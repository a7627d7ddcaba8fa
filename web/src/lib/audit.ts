/** The audit log's before → after, as the console shows it. */

function show(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** before → after, one line per field that changed (unchanged fields are left out). */
export function changes(before: unknown, after: unknown): Array<{ field: string; from: string; to: string }> {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(before) && !isObject(after)) {
    return before === undefined && after === undefined ? [] : [{ field: "", from: show(before), to: show(after) }];
  }
  const b = isObject(before) ? before : {};
  const a = isObject(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return keys.filter((k) => show(b[k]) !== show(a[k])).map((k) => ({ field: k, from: show(b[k]), to: show(a[k]) }));
}
