# Multi-stage: build with dev dependencies, run with production ones only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Mount your own servers.yml at /config/servers.yml (the shipped one uses dev-only reference servers).
ENV MCP_COORDINATOR_CONFIG=/config/servers.yml
# stdio MCP server: run with `docker run -i --init` so the coordinator is not PID 1 (children get reaped).
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
