# Grid as an image: a build stage (npm ci + npm run build, then dev dependencies pruned) and a
# runtime stage with only what runs: node, dist/, production node_modules, the demo services and
# examples (for `--demo` and the dashboard's Apply page).
#
# With a registry (the defaults):
#   docker build -t grid:local .
# Offline, on a host with node 20 (no base image to pull; see demo-services/build-images.sh, which
# makes grid-node-base:local = FROM scratch + the host's node and its ldd libraries, and
# grid-node-build:local = that + npm, sh and env). npm ci still needs the npm registry, hence the
# host network when dockerd runs with --bridge=none:
#   demo-services/build-images.sh
#   DOCKER_BUILDKIT=0 docker build --network host -t grid:local \
#     --build-arg BASE=grid-node-build:local --build-arg RUNTIME_BASE=grid-node-base:local .
#
# The classic builder is enough (no BuildKit-only syntax), so dockerd 20.10 without buildx builds it.
ARG BASE=node:20-bookworm-slim
ARG RUNTIME_BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /src
# Dependencies first: this layer stays cached while only the sources change.
# scripts/ too: npm ci runs the prepare script (scripts/build-cli.mjs), which waits for src/.
COPY package.json package-lock.json ./
COPY scripts/ scripts/
# --include=dev: a base may set NODE_ENV=production (grid-node-base does), and the build needs tsc.
RUN npm ci --include=dev --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY examples/ examples/
COPY src/ src/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir -p /out/data

FROM ${RUNTIME_BASE}
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/dist/ dist/
COPY bin/ bin/
COPY demo-services/ demo-services/
COPY examples/ examples/
# An empty /data owned by Grid's user: a named volume mounted there starts with that owner.
COPY --from=build --chown=10001:10001 /out/data /data
ENV NODE_ENV=production \
    GRID_DATA_DIR=/data \
    GRID_PORT=8080 \
    GRID_HOST=0.0.0.0
# GRID_HOST=0.0.0.0: Grid refuses to start on a non-loopback address without credentials, so a
# container needs GRID_ADMIN_PASSWORD, GRID_API_KEYS or GRID_USERS_FILE (or -e GRID_HOST=127.0.0.1
# together with --network host).
#
# Not root. The Docker socket is usually root:docker mode 660, so to drive containers this user
# needs the socket's group: docker run --group-add "$(stat -c %g /var/run/docker.sock)" …
# That group is root-equivalent on the host (README, "Docker"); running as root instead gains
# nothing over it and also gives Grid's own process pods root in the container.
USER 10001:10001
EXPOSE 8080
VOLUME ["/data"]
# No curl in the image: node asks /healthz itself (200 while Grid is up).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GRID_PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
