import { parseEnv } from "@surge/core";
import { z } from "zod";

const schema = z.object({
  /** The API the CLI drives (its ops plane, or its order endpoints with --direct). */
  SURGE_API_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("http://127.0.0.1:8080"),
  /** The operator token `npm start` prints; needed unless --direct. */
  OPS_TOKEN: z.string().min(1).optional(),
});

export type CliEnv = z.infer<typeof schema>;

/** The flashsale CLI's configuration from the environment, parsed once. */
export function loadCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return parseEnv(schema, env);
}
