/** The command line shared by the benchmark CLIs (chaos, soak). */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { errorMessage } from "@surge/core";

/**
 * Parses `options` plus -h/--help (which prints the usage and exits 0). `bounded` reads a number;
 * one out of its range prints the usage and exits 2.
 */
export function benchArgs<const O extends NonNullable<ParseArgsConfig["options"]>>(usage: string, options: O) {
  const { values } = parseArgs({ options: { ...options, help: { type: "boolean", short: "h", default: false } } });
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  const bounded = (name: string, value: string | undefined, min: number, max: number): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      console.error(`--${name} must be a number in ${min}..${max}\n\n${usage}`);
      process.exit(2);
    }
    return n;
  };
  return { values: values as ReturnType<typeof parseArgs<{ options: O }>>["values"], bounded };
}

/**
 * Runs a benchmark and prints its report (also written to `json` when given). The exit code is 0
 * when `ok`, 1 when not, 3 when the run itself failed.
 */
export async function reportRun<R>(
  name: string,
  run: () => Promise<R>,
  how: { format: (report: R) => string; ok: (report: R) => boolean; json?: string | undefined },
): Promise<void> {
  try {
    const report = await run();
    console.log(`\n${how.format(report)}`);
    if (how.json) {
      mkdirSync(dirname(resolve(how.json)), { recursive: true });
      writeFileSync(resolve(how.json), `${JSON.stringify(report, null, 1)}\n`);
    }
    process.exitCode = how.ok(report) ? 0 : 1;
  } catch (error) {
    console.error(`${name}: ${errorMessage(error)}`);
    process.exitCode = 3;
  }
}
