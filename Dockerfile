# syntax=docker/dockerfile:1.7
# Every deployable's image, one target each, built from the repository root:
#   docker build --target api -t surge-api .      (worker, web likewise)
# The CDK app builds and pushes them on `cdk deploy` (docs/deploy-aws.md). A build runs only the stages its target needs.
ARG NODE_VERSION=24.11.1

# Package manifests only, so the `npm ci` layers below stay cached until a
# package.json or the lockfile changes, not on every source edit.
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /out \
  && cp package.json package-lock.json /out/ \
  && for manifest in */package.json */*/package.json; do mkdir -p "/out/${manifest%/package.json}" && cp "$manifest" "/out/$manifest"; done

# Where every build installs from the lockfile, with a compiler in case better-sqlite3 has no prebuilt binary.
FROM node:${NODE_VERSION}-bookworm-slim AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=manifests /out/ ./

# Amazon RDS's certificate authorities: DATABASE_URL says sslmode=verify-full, and Node does not ship them.
FROM node:${NODE_VERSION}-bookworm-slim AS rds-ca
ARG RDS_CA_BUNDLE_URL=https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
RUN node -e "fetch(process.env.RDS_CA_BUNDLE_URL).then(async (r) => { if (!r.ok) throw new Error('HTTP ' + r.status); const pem = await r.text(); if (!pem.includes('BEGIN CERTIFICATE')) throw new Error('not a PEM bundle'); require('node:fs').writeFileSync('/rds-ca.pem', pem); })"

# What the API and worker images share: an esbuild bundle beside its external node_modules, talking to RDS.
FROM node:${NODE_VERSION}-bookworm-slim AS bundle-runtime
ENV NODE_ENV=production \
  NODE_EXTRA_CA_CERTS=/app/certs/rds-ca.pem
WORKDIR /app
COPY --from=rds-ca /rds-ca.pem ./certs/rds-ca.pem

# The order API and ops control plane. esbuild bundles it with @surge/core (scripts/bundle.mjs);
# prod deps are what the bundle leaves external (native better-sqlite3), without dev tools.
FROM toolchain AS api-build
RUN --mount=type=cache,target=/root/.npm npm ci --workspace=@surge/api --include-workspace-root --no-audit --no-fund
COPY . .
RUN npm run build --workspace=@surge/api

FROM toolchain AS api-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --workspace=@surge/api --no-audit --no-fund

FROM bundle-runtime AS api
ENV HOST=0.0.0.0 \
  PORT=8080
COPY --from=api-deps /app/node_modules ./node_modules
COPY --from=api-build /app/api/dist ./api/dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is the process ECS signals, so SIGTERM reaches the API's graceful shutdown.
CMD ["node", "--enable-source-maps", "api/dist/main.js"]

# The worker task: long-polls SQS and pays orders. Built as the API is.
FROM toolchain AS worker-build
RUN --mount=type=cache,target=/root/.npm npm ci --workspace=@surge/worker --include-workspace-root --no-audit --no-fund
COPY . .
RUN npm run build --workspace=@surge/worker

FROM toolchain AS worker-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --workspace=@surge/worker --no-audit --no-fund

FROM bundle-runtime AS worker
ENV METRICS_HOST=0.0.0.0 \
  METRICS_PORT=9400
COPY --from=worker-deps /app/node_modules ./node_modules
COPY --from=worker-build /app/worker/dist ./worker/dist
USER node
EXPOSE 9400
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9400) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is the process ECS signals, so SIGTERM starts the worker's graceful stop (SHUTDOWN_DEADLINE_MS).
CMD ["node", "--enable-source-maps", "worker/dist/main.js"]

# The ops console (Next.js). The API's dependencies too: `next build` type-checks the console, which imports
# the API's types. The build script also copies the static assets into the standalone tree
# (web/scripts/standalone-assets.mjs), so the image serves the whole console exactly as `npm start` does.
FROM toolchain AS web-build
ENV NEXT_TELEMETRY_DISABLED=1
RUN --mount=type=cache,target=/root/.npm npm ci --workspace=@surge/web --workspace=@surge/api --include-workspace-root --no-audit --no-fund
COPY . .
RUN npm run build --workspace=@surge/web

# Only Next's traced standalone server and the node_modules it uses (`output: "standalone"`, web/next.config.ts).
FROM node:${NODE_VERSION}-bookworm-slim AS web
ENV NODE_ENV=production \
  NEXT_TELEMETRY_DISABLED=1 \
  HOSTNAME=0.0.0.0 \
  PORT=3000
WORKDIR /app
COPY --from=web-build /app/web/.next/standalone ./
# The server's files stay root-owned (read-only to it); only Next's cache is writable.
RUN mkdir -p web/.next/cache && chown node:node web/.next/cache
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/').then((r) => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))"]
# Exec form: node is the process ECS signals, so SIGTERM reaches Next's server directly.
CMD ["node", "web/server.js"]
