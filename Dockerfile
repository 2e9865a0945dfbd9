# prometheus-ecs-discoverer: docker build -t prometheus-ecs-discoverer .
# Every step runs the same commands as the README and CI (npm ci, npm run build).

# --- Build: compile TypeScript to dist/ ---
FROM node:22-slim AS build
WORKDIR /app
# The manifests alone first, so the dependency layer stays cached until they change.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# tsc, then chmod 755 dist/cli.js: the entrypoint runs through its shebang.
RUN npm run build

# --- Runtime: production dependencies and dist/ only ---
FROM node:22-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json is also read at run time (--version).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist

# The output directory belongs to node before VOLUME declares it: Docker (named volumes) and
# ECS (a bind mount whose containerPath is this VOLUME) copy the directory, owner included,
# into a fresh volume, so the non-root process can write its files there.
RUN mkdir /targets && chown node:node /targets
VOLUME /targets

# The image's own unprivileged user (uid 1000, home /home/node for ~/.aws).
USER node
EXPOSE 8080

# No curl in a slim image: node itself asks /-/healthy (200 while the process runs).
# Assumes the default --http-port 8080; with --http-port 0 there is nothing to ask.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:8080/-/healthy', {timeout: 4000}, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]

# The bin itself, not "node dist/cli.js": its shebang (#!/usr/bin/env -S ... node ...,
# which Debian's coreutils env supports) carries the V8 and malloc memory settings.
ENTRYPOINT ["/app/dist/cli.js"]
CMD ["--output-dir", "/targets"]
