#!/usr/bin/env bash
# The Dockerfile's steps by hand, for machines without a Docker engine (ours): the build context
# as .dockerignore leaves it, the build stage (npm ci --ignore-scripts, build, prune), the runtime
# layout, and the HEALTHCHECK and a `tools` run as an unprivileged user with the image's
# environment. Uses the Node on PATH, not the image's. Usage: scripts/docker-steps.sh [WORKDIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work/context" "$work/app" "$work/data/catalog" "$work/data/npm" "$work/config"

# 1. The context: what `COPY` can see (only the Dockerfile's COPY sources are needed).
cd "$root"
for path in package.json package-lock.json tsconfig.json tsconfig.build.json scripts src; do
  if grep -qxF "$path" .dockerignore; then echo "docker-steps: $path is excluded by .dockerignore" >&2; exit 1; fi
  cp -r "$path" "$work/context/"
done
echo "context: $(du -sh "$work/context" | cut -f1) (the repository with node_modules: $(du -sh "$root" | cut -f1))"

# 2. The build stage.
cd "$work/context"
npm ci --no-audit --no-fund --ignore-scripts --prefer-offline >/dev/null
npm run build >/dev/null
npm prune --omit=dev --ignore-scripts >/dev/null

# 3. The runtime stage.
cp -r node_modules dist package.json "$work/app/"
cat > "$work/config/servers.yml" <<YAML
servers:
  fixture:
    command: node
    args: ['$root/test/fixtures/tool-server.mjs', --name, fixture]
YAML
user=nobody
chown -R "$user" "$work/data" "$work/config" 2>/dev/null || true
chmod -R a+rX "$work/app" "$work/config"
as_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}
cd "$work/app"
export NODE_ENV=production MCP_COORDINATOR_CACHE_DIR="$work/data/catalog" npm_config_cache="$work/data/npm" \
  MCP_COORDINATOR_CONFIG="$work/config/servers.yml"
as_user node dist/main.js check            # the HEALTHCHECK
as_user node dist/main.js tools >/dev/null # production dependencies only, unprivileged
test -f "$work/data/catalog/catalog-cache.json" && echo "warm catalog in the data volume: ok"
echo "docker-steps: ok ($work)"
