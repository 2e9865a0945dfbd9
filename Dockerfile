# prometheus-ecs-discoverer: docker build -t prometheus-ecs-discoverer .
# Every step runs the same commands as the README and CI (npm ci, npm run build).

# --- Build: bundle src/ and its dependencies into dist/ ---
FROM node:22-slim AS build
WORKDIR /app
# The manifests alone first, so the dependency layer stays cached until they change.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# esbuild: dist/cli.js and its chunks hold every dependency; dist/cli.js is executable.
RUN npm run build

# --- Runtime: dist/ only: the bundle needs no node_modules ---
FROM node:22-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json is read at run time (--version).
COPY package.json ./
COPY --from=build /app/dist ./dist

# The output directory belongs to node before VOLUME declares it: Docker (named volumes) and
# ECS (a bind mount whose containerPath is this VOLUME) copy the directory, owner included,
# into a fresh volume, so the non-root process can write its files there.
RUN mkdir /targets && chown node:node /targets
VOLUME /targets

# The image's own unprivileged user (uid 1000, home /home/node for ~/.aws).
USER node
# The default output directory, "targets", is relative: run from /, it is the /targets volume.
# A default, not a flag (CMD) or ECS_DISCOVERER_OUTPUT_DIR: a --config file, the environment and
# flags each still change it (a flag would win over all of them, and go with any CMD of one's own).
WORKDIR /
EXPOSE 8080

# No curl in a slim image: node itself asks /-/healthy (200 while the process runs).
# Assumes the default --http-port 8080; with --http-port 0 there is nothing to ask.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:8080/-/healthy', {timeout: 4000}, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]

# The bin itself, as npx runs it: its shebang is a plain #!/usr/bin/env node (no flags needed).
# Arguments given to the container (docker run IMAGE --interval 30, a task's command) are its flags.
ENTRYPOINT ["/app/dist/cli.js"]
