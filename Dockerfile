# Multi-stage: build with dev dependencies, run with production ones only, as the unprivileged
# `node` user of the official image. Node 26: the current LTS line (Node 20 reached its end of
# life; the newest MCP Inspector needs Node >= 22). Change it with --build-arg NODE_VERSION=24.
ARG NODE_VERSION=26
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY package.json ./
# Writable state lives in one volume owned by the `node` user: the warm catalog (so a restart
# answers tools/list at once) and npm's cache (so `npx -y some-server` downloads only once).
ENV MCP_COORDINATOR_CACHE_DIR=/data/catalog \
    npm_config_cache=/data/npm \
    npm_config_update_notifier=false \
    MCP_COORDINATOR_CONFIG=/config/servers.yml
RUN mkdir -p /data/catalog /data/npm /config && chown -R node:node /data /config
VOLUME ["/data"]
# Mount a config FOLDER at /config (-v "$PWD/mcp:/config"), not a single file: editors replace a
# file on save, which a single-file bind mount does not see; a folder mount does, and the
# coordinator reloads servers.yml when it changes.
USER node
# The team gateway: MCP Streamable HTTP, REST and /metrics on port 8766. Listening beyond the
# container's loopback needs http.auth (API keys or OAuth) in the mounted config: without it the
# coordinator refuses to start and says so. For an IDE's stdio entry instead:
#   docker run -i --init IMAGE serve
EXPOSE 8766
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.MCP_COORDINATOR_HEALTH_URL || 'http://127.0.0.1:8766/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Run with `docker run --init` so the coordinator is not PID 1 (children get reaped).
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--http", "0.0.0.0:8766"]
