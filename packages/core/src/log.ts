type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** JSON lines on stdout: one event per line, machine-readable in CloudWatch and in DATA_DIR/logs. */
export function createLogger(
  base: Record<string, unknown>,
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const min = LEVELS[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log =
    (level: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      if (LEVELS[level] < min) return;
      const err = fields.err instanceof Error ? { err: { message: fields.err.message, name: fields.err.name } } : {};
      write(JSON.stringify({ time: new Date().toISOString(), level, ...base, msg, ...fields, ...err }));
    };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (fields) => createLogger({ ...base, ...fields }, options),
  };
}
