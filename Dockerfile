# One image for every process of the platform; the manifests pick the entry point:
#   node api/server.ts | node worker/main.ts | node operator/main.ts | node bot-pods/pod.ts
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
# Build: docker build -t <registry>/botinteligente:<version> .   (docs/kubernetes.md)
ARG NODE_IMAGE=node:24-trixie-slim

# Production dependencies only, exactly as package-lock.json pins them. npm 11 runs no install
# script unless package.json's allowScripts permits it.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# pg_dump and pg_restore for the worker's backups and restores (PG_BIN_DIR=/usr/lib/postgresql/17/bin):
# Debian 13's client 17 reads servers up to major 17.
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client-17 ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid, the one the manifests' runAsUser names, owning nothing in the image: the code is
# root-owned and read-only to it, so the container runs with readOnlyRootFilesystem.
RUN groupadd --system --gid 10001 botinteligente \
  && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin botinteligente
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
# .dockerignore lets in only the code the processes run (no tests, docs, local stack or tools).
COPY . .
# Node's compile cache for the bot pods, with their flags (core/bot-pod-process.ts): a pod starting from it
# does not load the TypeScript stripper, ~20 MB less resident memory (docs/bot-pods.md#memory).
RUN node bot-pods/warm-compile-cache.ts
USER 10001:10001
EXPOSE 8080
CMD ["node", "api/server.ts"]
