/** Argument checks shared by the benchmark CLIs (chaos, soak): bad input prints the usage and exits 2. */
export function boundedArg(usage: string) {
  return (name: string, value: string | undefined, min: number, max: number): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      console.error(`--${name} must be a number in ${min}..${max}\n\n${usage}`);
      process.exit(2);
    }
    return n;
  };
}
