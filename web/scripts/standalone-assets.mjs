/**
 * After `next build`: copies the static assets into the standalone tree (Next leaves them to a
 * CDN), so its server.js serves the whole console, locally exactly as in the container image.
 */
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const server = join(web, ".next/standalone/web");
if (!existsSync(join(server, "server.js"))) {
  console.error(`standalone-assets: ${server}/server.js is missing — is output: "standalone" set in next.config.ts?`);
  process.exit(1);
}
const staticDir = join(server, ".next/static");
rmSync(staticDir, { recursive: true, force: true });
cpSync(join(web, ".next/static"), staticDir, { recursive: true });
if (existsSync(join(web, "public"))) cpSync(join(web, "public"), join(server, "public"), { recursive: true });
