import { join } from "node:path";
import { PostgresOrderStore } from "./postgres.js";
import { SqliteOrderStore } from "./sqlite.js";
import type { OrderStore } from "./types.js";

export { PostgresOrderStore } from "./postgres.js";
export { SqliteOrderStore } from "./sqlite.js";
export * from "./types.js";

/** `DATABASE_URL` set → PostgreSQL; unset → embedded SQLite at `DATA_DIR/surge.db`. */
export function openOrderStore(config: { databaseUrl?: string | undefined; dataDir: string }): OrderStore {
  if (config.databaseUrl) return new PostgresOrderStore(config.databaseUrl);
  return new SqliteOrderStore(join(config.dataDir, "surge.db"));
}
