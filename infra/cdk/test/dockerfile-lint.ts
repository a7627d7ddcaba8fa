// dockerfile-ast parses (continuations, comments, flags, JSON form, ARG scope); the rules below are Surge's own,
// because no Node linter checks a multi-target file's stage graph. There is no Docker engine in CI (docs/deploy-aws.md).
import {
  type Dockerfile,
  DockerfileParser,
  type From,
  type Instruction,
  JSONInstruction,
  ModifiableInstruction,
  type PropertyInstruction,
} from "dockerfile-ast";

export type RuleId =
  | "syntax"
  | "stage-graph"
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

interface Finding {
  rule: RuleId;
  /** 1-based line of the instruction (0 for findings about the file as a whole). */
  line: number;
  message: string;
}

interface Stage {
  index: number;
  /** The `AS` name, lower-cased. */
  name?: string;
  /** The FROM image with ARGs substituted (undefined when an ARG has no value), or the stage it builds on. */
  base: string | undefined;
  /** The stage this one builds on, when its FROM names an earlier stage. */
  parent?: Stage;
  from: From;
  instructions: Instruction[];
}

/** 1-based line of an instruction. */
export const lineOf = (i: Instruction): number => i.getRange().start.line + 1;

/** The arguments after any flags, comments inside continuations dropped, joined by single spaces. */
export const argsOf = (i: Instruction): string =>
  i
    .getArguments()
    .map((a) => a.getValue())
    .join(" ");

/** The value of a `--name=value` flag (COPY --from, RUN --mount…). */
export const flagOf = (i: Instruction, name: string): string | undefined =>
  i instanceof ModifiableInstruction
    ? (i
        .getFlags()
        .find((f) => f.getName() === name)
        ?.getValue() ?? undefined)
    : undefined;

/** The JSON-array form's elements, when the instruction uses it. */
export const jsonOf = (i: Instruction): string[] | undefined =>
  i instanceof JSONInstruction && i.getOpeningBracket() && i.getClosingBracket()
    ? i.getJSONStrings().map((s) => s.getJSONValue())
    : undefined;

/** `${NAME}`, `${NAME:-default}` and `$NAME` as the ARGs in scope at `line` have them; undefined when one has no value. */
function resolve(dockerfile: Dockerfile, text: string, line: number): string | undefined {
  let unresolved = false;
  const result = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
      const value = dockerfile.resolveVariable(braced ?? bare ?? "", line) ?? fallback;
      if (value === undefined) unresolved = true;
      return value ?? "";
    },
  );
  return unresolved ? undefined : result;
}

export function parseDockerfile(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const current = stages.at(-1);
    if (instruction.getKeyword() !== "FROM") {
      current?.instructions.push(instruction);
      continue;
    }
    const from = instruction as From;
    const image = from.getImage() ?? "";
    const parent = stages.find((s) => s.name !== undefined && s.name === image.toLowerCase());
    stages.push({
      index: stages.length,
      base: parent ? parent.name : resolve(dockerfile, image, from.getRange().start.line),
      from,
      instructions: [],
      ...(parent && { parent }),
      ...(from.getBuildStage() && { name: from.getBuildStage()?.toLowerCase() }),
    });
  }
  return stages;
}

/** Whether an image reference names one immutable image: a digest, or a full x.y.z version tag. */
export function isPinned(image: string): boolean {
  if (image === "scratch" || /@sha256:[a-f0-9]{64}$/.test(image)) return true;
  const colon = image.indexOf(":", image.lastIndexOf("/") + 1);
  return colon >= 0 && /^v?\d+\.\d+\.\d+([.-][\w.-]+)?$/.test(image.slice(colon + 1));
}

const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
const NPM_CI = /\bnpm\s+ci\b/;
const OMIT_DEV = /--omit[= ]dev\b/;

interface LintOptions {
  /** The build context's .dockerignore, or undefined when it has none. */
  dockerignore?: string | undefined;
  /** Lint the image `docker build --target <target>` builds: that stage and the stages it needs. Default: the last stage. */
  target?: string;
}

type Report = (rule: RuleId, line: number, message: string) => void;

/** Everything wrong with the image one Dockerfile (or one of its targets) builds, in line order. Empty means it passes. */
export function lintDockerfile(text: string, options: LintOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const report: Report = (rule, line, message) => findings.push({ rule, line, message });
  const all = parseDockerfile(text);
  const final = options.target === undefined ? all.at(-1) : all.find((s) => s.name === options.target?.toLowerCase());
  if (!final) {
    if (all.length === 0) report("syntax", 0, "no FROM instruction");
    else report("stage-graph", 0, `no stage is named ${options.target}`);
    return findings;
  }
  const stages = options.target === undefined ? all : stagesNeededBy(final, all);
  const finalSteps = chain(final).flatMap((s) => s.instructions);

  if (all.length < 2) {
    report("multi-stage", lineOf(final.from), "single stage: build tools and dev dependencies ship in the image");
  } else if (!finalSteps.some((i) => i.getKeyword() === "COPY" && flagOf(i, "from") !== undefined)) {
    report("multi-stage", lineOf(final.from), "the runtime stage copies nothing from a build stage");
  }

  for (const stage of stages) {
    lintGraph(stage, all, report);
    if (stage.parent) continue;
    const raw = stage.from.getImage() ?? "";
    if (stage.base === undefined) {
      report("pinned-base", lineOf(stage.from), `${raw}: an ARG in the image has no default, so the base is unknown`);
    } else if (!isPinned(stage.base)) {
      report("pinned-base", lineOf(stage.from), `${stage.base}: pin a digest (@sha256:…) or a full x.y.z version tag`);
    }
  }

  const user = finalSteps.filter((i) => i.getKeyword() === "USER").at(-1);
  const userName = user ? argsOf(user).split(":")[0] : undefined;
  if (!user) report("non-root", lineOf(final.from), "the runtime stage never sets USER: it runs as root");
  else if (userName === "root" || userName === "0") report("non-root", lineOf(user), "the runtime stage runs as root");

  const health = finalSteps.filter((i) => i.getKeyword() === "HEALTHCHECK").at(-1);
  if (!health) report("healthcheck", lineOf(final.from), "the runtime stage has no HEALTHCHECK");
  else if (/^NONE$/i.test(argsOf(health)))
    report("healthcheck", lineOf(health), "HEALTHCHECK NONE disables health checks");

  for (const stage of stages) for (const i of stage.instructions) lintInstruction(i, report);
  lintRuntimeDependencies(final, all, report);
  lintDockerignore(options.dockerignore, report);
  return findings.sort((a, b) => a.line - b.line);
}

/** FROM and COPY --from may only name stages defined above them. */
function lintGraph(stage: Stage, all: Stage[], report: Report): void {
  const image = stage.from.getImage()?.toLowerCase() ?? "";
  if (!stage.parent && all.some((s) => s.index > stage.index && s.name === image)) {
    report("stage-graph", lineOf(stage.from), `FROM ${image}: that stage is defined further down`);
  }
  for (const i of stage.instructions) {
    const from = flagOf(i, "from");
    if (from !== undefined && !sourceOf(from, all, stage.index)) {
      report("stage-graph", lineOf(i), `COPY --from=${from}: no stage above has that name`);
    }
  }
}

/** node_modules that end up in the runtime image must be production-only. */
function lintRuntimeDependencies(final: Stage, all: Stage[], report: Report): void {
  for (const i of final.instructions) {
    const args = argsOf(i);
    if (i.getKeyword() === "RUN" && NPM_CI.test(args) && !OMIT_DEV.test(args)) {
      report("npm-ci", lineOf(i), "npm ci in the runtime stage without --omit=dev installs dev dependencies");
    }
    const from = flagOf(i, "from");
    if (i.getKeyword() !== "COPY" || from === undefined || !/node_modules/.test(args)) continue;
    const source = sourceOf(from, all, final.index);
    const installs = (source ? chain(source) : [])
      .flatMap((s) => s.instructions)
      .filter((r) => r.getKeyword() === "RUN" && NPM_CI.test(argsOf(r)));
    if (installs.length === 0 || installs.some((r) => !OMIT_DEV.test(argsOf(r)))) {
      report("npm-ci", lineOf(i), `node_modules copied from "${from}" were not installed with npm ci --omit=dev`);
    }
  }
}

function lintDockerignore(dockerignore: string | undefined, report: Report): void {
  if (dockerignore === undefined) {
    report("dockerignore", 0, "the build context has no .dockerignore: node_modules, .git and .env go into it");
    return;
  }
  const patterns = dockerignore
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const needed of ["node_modules", ".git", "cdk.out", ".env"]) {
    if (!patterns.some((p) => p.replace(/^\*\*\//, "").replace(/\/$/, "") === needed)) {
      report("dockerignore", 0, `.dockerignore does not exclude ${needed}`);
    }
  }
}

function lintInstruction(i: Instruction, report: Report): void {
  const args = argsOf(i);
  const line = lineOf(i);
  switch (i.getKeyword()) {
    case "ADD":
      report(
        "no-add",
        line,
        /\bhttps?:\/\/|\bgit@/.test(args)
          ? "ADD of a URL fetches unverified content at build time"
          : "use COPY: ADD also unpacks archives",
      );
      break;
    case "CMD":
    case "ENTRYPOINT":
      if (!jsonOf(i))
        report("exec-form", line, `${i.getKeyword()} in shell form: /bin/sh is PID 1 and swallows SIGTERM`);
      break;
    case "RUN":
      if (/\bnpm\s+(install|i|add)\b(?!\s+-g\b)/.test(args)) {
        report("npm-ci", line, "npm install ignores the lockfile's exact tree: use npm ci");
      }
      if (/\bapt-get\s+install\b/.test(args)) {
        if (!/--no-install-recommends/.test(args))
          report("apt-hygiene", line, "apt-get install without --no-install-recommends");
        if (!/\s-y\b|--yes\b|--assume-yes\b/.test(args)) report("apt-hygiene", line, "apt-get install without -y");
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(args)) {
          report("apt-hygiene", line, "apt lists not removed in the same RUN: they stay in the layer");
        }
      }
      break;
    case "ENV":
    case "ARG":
      for (const property of (i as PropertyInstruction).getProperties()) {
        const value = property.getValue();
        if (SECRET_NAME.test(property.getName()) && value !== null && value !== "") {
          report(
            "no-baked-secrets",
            line,
            `${i.getKeyword()} ${property.getName()} bakes a secret into the image's layers`,
          );
        }
      }
      break;
    case "WORKDIR":
      if (!args.startsWith("/") && !args.startsWith("$"))
        report("absolute-workdir", line, `WORKDIR ${args} is relative`);
      break;
  }
}

/** The stage a `--from` names (by name or index) among those above `before`. */
function sourceOf(from: string, all: Stage[], before: number): Stage | undefined {
  return all.find((s) => s.index < before && (s.name === from.toLowerCase() || String(s.index) === from));
}

/** A stage and the stages it builds on, the first base first. */
function chain(stage: Stage): Stage[] {
  return [...(stage.parent ? chain(stage.parent) : []), stage];
}

/** The stages `docker build --target` runs for `final`: its FROM chain and every stage a COPY --from reaches, in file order. */
export function stagesNeededBy(final: Stage, all: Stage[]): Stage[] {
  const needed = new Set<Stage>();
  const visit = (stage: Stage): void => {
    if (needed.has(stage)) return;
    needed.add(stage);
    if (stage.parent) visit(stage.parent);
    for (const i of stage.instructions) {
      const from = flagOf(i, "from");
      const source = from === undefined ? undefined : sourceOf(from, all, stage.index);
      if (source) visit(source);
    }
  };
  visit(final);
  return all.filter((s) => needed.has(s));
}
