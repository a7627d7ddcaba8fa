/**
 * A small Dockerfile linter for the rules that matter to Surge's images. There
 * is no Docker engine in CI, so the images cannot be built there; this reads
 * the Dockerfiles the way BuildKit does (line continuations, comments, global
 * ARGs, stages) and checks what would otherwise only show up in production:
 *
 *  multi-stage        the runtime image is assembled from build stages, so compilers,
 *                     dev dependencies and sources stay out of it
 *  pinned-base        every base image is a digest or a full x.y.z version tag: the same
 *                     Dockerfile builds the same image next month
 *  non-root           the runtime stage ends as an unprivileged USER
 *  healthcheck        the runtime stage declares a HEALTHCHECK (for `docker run` and compose;
 *                     on ECS the task definition and the load balancer carry their own)
 *  no-add             COPY, never ADD: no remote URLs fetched unverified, no silent tar extraction
 *  npm-ci             dependencies come from the lockfile (`npm ci`, never `npm install`), and
 *                     node_modules that reach the runtime stage were installed with --omit=dev
 *  exec-form          CMD and ENTRYPOINT in JSON form, so SIGTERM reaches node (graceful stop)
 *                     instead of a shell that does not forward it
 *  apt-hygiene        apt-get install -y --no-install-recommends, lists removed in the same layer
 *  no-baked-secrets   no ENV or ARG whose name says secret/password/token carries a value
 *  absolute-workdir   WORKDIR is absolute
 *  dockerignore       the build context has a .dockerignore keeping node_modules, .git, cdk.out
 *                     and .env files out of it
 */

export type RuleId =
  | "syntax"
  | "multi-stage"
  | "pinned-base"
  | "non-root"
  | "healthcheck"
  | "no-add"
  | "npm-ci"
  | "exec-form"
  | "apt-hygiene"
  | "no-baked-secrets"
  | "absolute-workdir"
  | "dockerignore";

export interface Finding {
  rule: RuleId;
  /** 1-based line of the instruction (0 for findings about the file as a whole). */
  line: number;
  message: string;
}

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY… */
  keyword: string;
  /** Everything after the keyword, continuation lines joined, flags included. */
  args: string;
  /** Leading `--name=value` flags (COPY --from, HEALTHCHECK --interval…). */
  flags: Record<string, string>;
  /** Arguments after the flags. */
  rest: string;
  /** The JSON-array form's elements, when the instruction uses it. */
  json?: string[];
  line: number;
}

export interface Stage {
  index: number;
  name?: string;
  /** The FROM image after global ARG substitution, or the name of an earlier stage. */
  base: string;
  /** The stage this one builds on, when its FROM names an earlier stage. */
  parent?: Stage;
  from: Instruction;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

const FLAG = /^--([a-z-]+)(?:=(\S*))?\s*/;

/** Splits a Dockerfile into instructions the way BuildKit does (default `\` escape). */
export function parseInstructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    const trimmed = raw.trim();
    // Comment lines (parser directives included) are dropped, even between continuation lines.
    if (trimmed.startsWith("#")) continue;
    if (pending === undefined && trimmed === "") continue;
    const continues = /\\\s*$/.test(raw);
    const body = continues ? raw.replace(/\\\s*$/, "") : raw;
    if (pending) pending.text += ` ${body.trim()}`;
    else pending = { line: i + 1, text: body.trim() };
    if (!continues) {
      out.push(toInstruction(pending.text, pending.line));
      pending = undefined;
    }
  }
  if (pending && pending.text.trim() !== "") out.push(toInstruction(pending.text, pending.line));
  return out;
}

function toInstruction(text: string, line: number): Instruction {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text.trim());
  const keyword = (match?.[1] ?? "").toUpperCase();
  const args = (match?.[2] ?? "").trim();
  const flags: Record<string, string> = {};
  let rest = args;
  for (let flag = FLAG.exec(rest); flag; flag = FLAG.exec(rest)) {
    flags[flag[1] ?? ""] = flag[2] ?? "";
    rest = rest.slice(flag[0].length);
  }
  const instruction: Instruction = { keyword, args, flags, rest, line };
  const json = parseJsonForm(rest);
  if (json) instruction.json = json;
  return instruction;
}

function parseJsonForm(text: string): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `${NAME}`, `${NAME:-default}` and `$NAME` from `args`; undefined when a name has no value. */
export function substitute(text: string, args: ReadonlyMap<string, string | undefined>): string | undefined {
  let unresolved = false;
  const result = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, a, d, b) => {
      const value = args.get(a ?? b) ?? d;
      if (value === undefined) unresolved = true;
      return value ?? "";
    },
  );
  return unresolved ? undefined : result;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === "FROM") {
      const [image = "", as, name] = instruction.rest.split(/\s+/);
      const parent = stages.find((s) => s.name !== undefined && s.name === image.toLowerCase());
      const stage: Stage = {
        index: stages.length,
        base: parent ? image.toLowerCase() : (substitute(image, globalArgs) ?? image),
        from: instruction,
        instructions: [],
        ...(parent && { parent }),
        ...(as?.toUpperCase() === "AS" && name && { name: name.toLowerCase() }),
      };
      stages.push(stage);
      continue;
    }
    const current = stages.at(-1);
    if (current) current.instructions.push(instruction);
    else if (instruction.keyword === "ARG") {
      const [name = "", value] = instruction.rest.split(/=(.*)/s);
      globalArgs.set(name.trim(), value?.trim().replace(/^"(.*)"$/, "$1"));
    }
  }
  return { globalArgs, stages };
}

const VERSION_TAG = /^v?\d+\.\d+\.\d+([.-][\w.-]+)?$/;
const DIGEST = /@sha256:[a-f0-9]{64}$/;

/** Whether an image reference names one immutable image: a digest, or a full x.y.z version tag. */
export function isPinned(image: string): boolean {
  if (image === "scratch" || DIGEST.test(image)) return true;
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  if (colon < 0) return false;
  return VERSION_TAG.test(image.slice(colon + 1));
}

const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

export interface LintOptions {
  /** The build context's .dockerignore, or undefined when it has none. */
  dockerignore?: string | undefined;
}

/** Everything wrong with one Dockerfile, in line order. Empty means it passes. */
export function lintDockerfile(text: string, options: LintOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const report = (rule: RuleId, line: number, message: string) => findings.push({ rule, line, message });
  const { stages, globalArgs } = parseDockerfile(text);
  const final = stages.at(-1);
  if (!final) {
    report("syntax", 0, "no FROM instruction");
    return findings;
  }

  if (stages.length < 2) {
    report("multi-stage", final.from.line, "single stage: build tools and dev dependencies ship in the image");
  } else if (!allInstructions(final).some((i) => i.keyword === "COPY" && i.flags.from !== undefined)) {
    report("multi-stage", final.from.line, "the runtime stage copies nothing from a build stage");
  }

  for (const stage of stages) {
    if (stage.parent) continue;
    const raw = stage.from.rest.split(/\s+/)[0] ?? "";
    const image = substitute(raw, globalArgs);
    if (image === undefined) {
      report("pinned-base", stage.from.line, `${raw}: an ARG in the image has no default, so the base is unknown`);
    } else if (!isPinned(image)) {
      report("pinned-base", stage.from.line, `${image}: pin a digest (@sha256:…) or a full x.y.z version tag`);
    }
  }

  const users = allInstructions(final).filter((i) => i.keyword === "USER");
  const user = users.at(-1)?.rest.split(":")[0]?.trim();
  if (user === undefined) report("non-root", final.from.line, "the runtime stage never sets USER: it runs as root");
  else if (user === "root" || user === "0")
    report("non-root", users.at(-1)?.line ?? 0, "the runtime stage runs as root");

  const health = allInstructions(final)
    .filter((i) => i.keyword === "HEALTHCHECK")
    .at(-1);
  if (!health) report("healthcheck", final.from.line, "the runtime stage has no HEALTHCHECK");
  else if (/^NONE$/i.test(health.rest)) report("healthcheck", health.line, "HEALTHCHECK NONE disables health checks");

  for (const stage of stages) {
    for (const i of stage.instructions) lintInstruction(i, report);
  }

  // node_modules that end up in the runtime image must be production-only.
  for (const i of final.instructions) {
    if (i.keyword === "RUN" && /\bnpm\s+ci\b/.test(i.rest) && !/--omit[= ]dev\b/.test(i.rest)) {
      report("npm-ci", i.line, "npm ci in the runtime stage without --omit=dev installs dev dependencies");
    }
    if (i.keyword !== "COPY" || i.flags.from === undefined || !/node_modules/.test(i.rest)) continue;
    const source = stages.find((s) => s.name === i.flags.from?.toLowerCase() || String(s.index) === i.flags.from);
    const installs = source
      ? allInstructions(source).filter((r) => r.keyword === "RUN" && /\bnpm\s+ci\b/.test(r.rest))
      : [];
    if (installs.length === 0 || installs.some((r) => !/--omit[= ]dev\b/.test(r.rest))) {
      report("npm-ci", i.line, `node_modules copied from "${i.flags.from}" were not installed with npm ci --omit=dev`);
    }
  }

  if (options.dockerignore === undefined) {
    report("dockerignore", 0, "the build context has no .dockerignore: node_modules, .git and .env go into it");
  } else {
    const patterns = options.dockerignore
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const needed of ["node_modules", ".git", "cdk.out", ".env"]) {
      if (!patterns.some((p) => p.replace(/^\*\*\//, "").replace(/\/$/, "") === needed)) {
        report("dockerignore", 0, `.dockerignore does not exclude ${needed}`);
      }
    }
  }
  return findings.sort((a, b) => a.line - b.line);
}

function lintInstruction(i: Instruction, report: (rule: RuleId, line: number, message: string) => void): void {
  switch (i.keyword) {
    case "ADD": {
      const remote = /\bhttps?:\/\/|\bgit@/.test(i.rest);
      report(
        "no-add",
        i.line,
        remote ? "ADD of a URL fetches unverified content at build time" : "use COPY: ADD also unpacks archives",
      );
      break;
    }
    case "CMD":
    case "ENTRYPOINT":
      if (!i.json) report("exec-form", i.line, `${i.keyword} in shell form: /bin/sh is PID 1 and swallows SIGTERM`);
      break;
    case "RUN": {
      if (/\bnpm\s+(install|i|add)\b(?!\s+-g\b)/.test(i.rest)) {
        report("npm-ci", i.line, "npm install ignores the lockfile's exact tree: use npm ci");
      }
      if (/\bapt-get\s+install\b/.test(i.rest)) {
        if (!/--no-install-recommends/.test(i.rest))
          report("apt-hygiene", i.line, "apt-get install without --no-install-recommends");
        if (!/\s-y\b|--yes\b|--assume-yes\b/.test(i.rest)) report("apt-hygiene", i.line, "apt-get install without -y");
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(i.rest)) {
          report("apt-hygiene", i.line, "apt lists not removed in the same RUN: they stay in the layer");
        }
      }
      break;
    }
    case "ENV":
    case "ARG":
      for (const [name, value] of assignments(i.rest)) {
        if (SECRET_NAME.test(name) && value !== undefined && value !== "") {
          report("no-baked-secrets", i.line, `${i.keyword} ${name} bakes a secret into the image's layers`);
        }
      }
      break;
    case "WORKDIR":
      if (!i.rest.startsWith("/") && !i.rest.startsWith("$"))
        report("absolute-workdir", i.line, `WORKDIR ${i.rest} is relative`);
      break;
  }
}

/** `A=1 B="two words"` (or the legacy `A value` form) as name/value pairs. */
function assignments(text: string): Array<[string, string | undefined]> {
  if (!text.includes("=")) {
    const [name = "", ...value] = text.split(/\s+/);
    return [[name, value.length > 0 ? value.join(" ") : undefined]];
  }
  const out: Array<[string, string | undefined]> = [];
  for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/g)) {
    out.push([m[1] ?? "", m[2]?.replace(/^["']|["']$/g, "")]);
  }
  return out;
}

/** A stage's instructions with those of the stages it builds on first. */
function allInstructions(stage: Stage): Instruction[] {
  return [...(stage.parent ? allInstructions(stage.parent) : []), ...stage.instructions];
}
