import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..");

const nextConfig: NextConfig = {
  // The container image (web/Dockerfile) runs Next's traced standalone server; the
  // workspace root is the tracing root so files imported from ../core are included.
  output: "standalone",
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
