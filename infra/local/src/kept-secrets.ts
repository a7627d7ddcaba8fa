import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where `npm start` keeps the operator token it generates: `DATA_DIR/ops-token`, mode 0600. */
export function opsTokenFile(dataDir: string): string {
  return join(dataDir, "ops-token");
}

/** Where the stack keeps the console's session key: `DATA_DIR/console-session-secret`, mode 0600. */
export function sessionSecretFile(dataDir: string): string {
  return join(dataDir, "console-session-secret");
}

/**
 * The secret kept in `file`, or a new random one (`bytes` bytes, base64url) written there with mode
 * 0600. A file too short to be the secret (`minLength`) is replaced; an unreadable one is an error.
 */
export function keptSecret(file: string, bytes: number, minLength: number): { value: string; created: boolean } {
  try {
    const value = readFileSync(file, "utf8").trim();
    if (value.length >= minLength) {
      // The file may have been copied in with looser permissions: only its owner reads it.
      chmodSync(file, 0o600);
      return { value, created: false };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  const value = randomBytes(bytes).toString("base64url");
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only to a file it creates
  return { value, created: true };
}

/**
 * The operator token for a stack without OPS_TOKEN, kept in `DATA_DIR/ops-token` across restarts: a
 * browser signed in with it stays signed in. At least the API's 16 characters.
 */
export function keptOpsToken(dataDir: string): { token: string; file: string; created: boolean } {
  const file = opsTokenFile(dataDir);
  const { value, created } = keptSecret(file, 24, 16);
  return { token: value, file, created };
}
