import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..");

// `next dev`'s fast refresh evaluates code; a production build never does.
const dev = process.env.NODE_ENV !== "production";

/**
 * Security headers on every console answer (the API sets its own). Next inlines its bootstrap
 * scripts and React sets style attributes, hence 'unsafe-inline' for those two; everything else
 * comes from this origin only, and no other site may frame the console (clickjacking a scale-out).
 */
const securityHeaders = [
  {
    key: "Content-Security-Policy",
    value: [
      "default-src 'self'",
      `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
  },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // same-origin, not no-referrer: under no-referrer Chrome sends `Origin: null` on the console's own form
  // posts (sign-in, sign-out), which defeats the Origin check that guards them. same-origin still sends
  // nothing to another site (a Grafana link leaks no console URL).
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Cross-Origin-Resource-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
];

const nextConfig: NextConfig = {
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
  // The container image (the root Dockerfile's `web` target) runs Next's traced standalone server; the
  // workspace root is the tracing root so files imported from ../core are included.
  output: "standalone",
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
