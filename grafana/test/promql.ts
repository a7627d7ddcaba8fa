/**
 * Just enough PromQL structure for the query tests: split an expression at its
 * top-level set and comparison operators, and name the metric families it reads.
 */

const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_:]/.test(c);

/** Positions (and lengths) of `ops` found outside parentheses, braces, brackets and strings. */
function topLevel(expr: string, match: (rest: string, prev: string | undefined) => number): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] as string;
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < expr.length && expr[i] !== c; i++) if (expr[i] === "\\") i++;
      continue;
    }
    if ("({[".includes(c)) depth++;
    else if (")}]".includes(c)) depth--;
    else if (depth === 0) {
      const length = match(expr.slice(i), expr[i - 1]);
      if (length > 0) {
        found.push([i, length]);
        i += length - 1;
      }
    }
  }
  return found;
}

const word = (w: string) => (rest: string, prev: string | undefined) =>
  rest.startsWith(w) && !isWordChar(prev) && !isWordChar(rest[w.length]) ? w.length : 0;

const comparison = (rest: string) => {
  for (const op of ["==", "!=", ">=", "<=", ">", "<"]) if (rest.startsWith(op)) return op.length;
  return 0;
};

/** Drops the vector-matching and `bool` modifiers that may follow a binary operator. */
function dropModifiers(operand: string): string {
  let s = operand.trimStart();
  for (;;) {
    const m = /^(bool\b|(?:on|ignoring|group_left|group_right)\s*\([^)]*\))\s*/.exec(s);
    if (!m) return s;
    s = s.slice(m[0].length);
  }
}

function stripParens(expr: string): string {
  let s = expr.trim();
  while (s.startsWith("(") && s.endsWith(")") && topLevel(s.slice(1, -1), () => 0).length === 0) {
    // Only strip when the parentheses enclose the whole expression: "(a) + (b)" must stay.
    let depth = 0;
    let closesAtEnd = true;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === "(") depth++;
      else if (s[i] === ")") depth--;
      if (depth === 0 && i < s.length - 1) {
        closesAtEnd = false;
        break;
      }
    }
    if (!closesAtEnd) break;
    s = s.slice(1, -1).trim();
  }
  return s;
}

function splitAt(expr: string, positions: Array<[number, number]>): string[] {
  const parts: string[] = [];
  let from = 0;
  for (const [at, length] of positions) {
    parts.push(expr.slice(from, at));
    from = at + length;
  }
  parts.push(expr.slice(from));
  return parts.map((p, i) => stripParens(i === 0 ? p : dropModifiers(p)));
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * The expressions that must return data for `expr` to be meaningful. An
 * expression without a top-level filter (set operator or comparison) must
 * itself return data. One with a filter legitimately returns nothing while
 * nothing is wrong (`age > 60`), so each of its operands must return data
 * instead, recursively; numbers need nothing, and `absent(x)` needs `x`.
 */
export function probesOf(expr: string): string[] {
  const e = stripParens(expr);
  const absent = /^absent\s*\(([\s\S]*)\)$/.exec(e);
  if (absent?.[1] !== undefined && topLevel(e, comparison).length === 0) return probesOf(absent[1]);
  for (const ops of [[word("or")], [word("and"), word("unless")], [comparison]]) {
    const positions = topLevel(e, (rest, prev) => {
      for (const op of ops) {
        const n = op(rest, prev);
        if (n > 0) return n;
      }
      return 0;
    });
    if (positions.length > 0) {
      return splitAt(e, positions).flatMap((operand) => (NUMBER.test(operand) ? [] : probesOf(operand)));
    }
  }
  return [e];
}

/** Whether the expression filters at the top level (may rightly return nothing). */
export function isFilter(expr: string): boolean {
  const probes = probesOf(expr);
  return probes.length !== 1 || probes[0] !== stripParens(expr);
}

/**
 * Metric names an expression reads, as families: histogram series (`_bucket`,
 * `_sum`, `_count`) fold into their family. Recording-rule names (`a:b:c`)
 * are returned as they are, to be resolved by the caller.
 */
export function familiesOf(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  const names = new Set<string>();
  for (const m of withoutStrings.matchAll(/\b(?:surge_|process_|nodejs_)[a-z0-9_]+\b|\b[a-z_]+:[a-z0-9_:]+\b/g)) {
    names.add(m[0].replace(/_(bucket|sum|count)$/, ""));
  }
  if (/\bup\s*\{/.test(withoutStrings)) names.add("up");
  return [...names].sort();
}

/** Grafana's variables as a query test substitutes them (values valid for a short test window). */
export const GRAFANA_VARIABLES: Record<string, string> = {
  $__rate_interval: "15s",
  $__interval: "2s",
  $__range: "5m",
  $task: ".+",
};

export function interpolate(expr: string): string {
  let out = expr;
  // Longest names first: $__rate_interval before $__interval.
  for (const name of Object.keys(GRAFANA_VARIABLES).sort((a, b) => b.length - a.length)) {
    out = out.split(name).join(GRAFANA_VARIABLES[name] as string);
  }
  const left = /\$[A-Za-z_]\w*/.exec(out);
  if (left) throw new Error(`unknown Grafana variable ${left[0]} in ${expr}`);
  return out;
}

/** Whether `op` (a one-character arithmetic operator) appears outside any brackets or strings. */
export function hasTopLevelOperator(expr: string, op: "/" | "*" | "+" | "-"): boolean {
  return topLevel(stripParens(expr), (rest) => (rest.startsWith(op) ? 1 : 0)).length > 0;
}
