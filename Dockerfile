# One image for every forgehand service: `start`, `webhook`, `runner` (see docker-compose.yml).
# Node 24: the current Active LTS (Node 20 reached end of life in April 2026).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency (esbuild, turbo, typescript), then the CLI bundle ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The manifests alone first: this layer (and the `npm ci` below) is rebuilt only when a
# package.json or the lock file changes, not on every source edit.
COPY package.json package-lock.json .npmrc ./
COPY apps/cli/package.json apps/cli/
COPY apps/runner/package.json apps/runner/
COPY apps/webhook/package.json apps/webhook/
COPY packages/core/package.json packages/core/
COPY packages/forge/package.json packages/forge/
COPY packages/queue/package.json packages/queue/
COPY packages/supervisor/package.json packages/supervisor/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- prod-deps: runtime dependencies only, plus the agent CLIs at the versions package.json pins ----
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json /app/.npmrc ./
COPY --from=build /app/apps/cli/package.json apps/cli/
COPY --from=build /app/apps/runner/package.json apps/runner/
COPY --from=build /app/apps/webhook/package.json apps/webhook/
COPY --from=build /app/packages/core/package.json packages/core/
COPY --from=build /app/packages/forge/package.json packages/forge/
COPY --from=build /app/packages/queue/package.json packages/queue/
COPY --from=build /app/packages/supervisor/package.json packages/supervisor/
# Agent CLIs are devDependencies (tests run them), which --omit=dev leaves out; the image gets the
# ones named here, each at the version package.json pins, in their own prefix (/opt/agents), e.g.
# --build-arg AGENT_PACKAGES="@anthropic-ai/claude-code @openai/codex @google/gemini-cli".
ARG AGENT_PACKAGES="@anthropic-ai/claude-code"
RUN npm ci --omit=dev --no-audit --no-fund \
  && for p in $AGENT_PACKAGES; do \
       v="$(node -p "require('./package.json').devDependencies['$p'] || ''")"; \
       [ -n "$v" ] || { echo "AGENT_PACKAGES: $p is not pinned in package.json" >&2; exit 1; }; \
       npm install -g --prefix /opt/agents --no-audit --no-fund "$p@$v" || exit 1; \
     done \
  && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE}
# git: mirrors, worktrees and pushes. redis-server: only for `forgehand start` without REDIS_URL
# (the compose file uses its own redis service). tini reaps the agents' grandchildren and
# forwards SIGTERM so runners shut down gracefully. bubblewrap: the sandbox every agent and gate
# runs in (as the `node` user it needs an unprivileged user namespace: see the runner's
# security_opt in docker-compose.yml and README § Security model).
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates redis-server tini bubblewrap \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Only what runs: production node_modules, the bundle (workspace code is inside it), the bin
# wrappers, the package manifests and the shipped example config. No sources, no dev tools.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /opt/agents /opt/agents
COPY --from=build /app/package.json ./
COPY --from=build /app/apps/cli/package.json apps/cli/
COPY --from=build /app/apps/cli/bin apps/cli/bin
COPY --from=build /app/apps/cli/dist apps/cli/dist
COPY --from=build /app/examples examples
# Run as the unprivileged `node` user; its HOME holds agent CLI credentials (e.g. ~/.claude).
# compose mounts the GitHub App private key at /run/secrets/github-app.pem (GITHUB_PRIVATE_KEY_PATH).
RUN mkdir -p /data && chown node:node /data
USER node
# /opt/agents/bin holds the agent CLIs (`claude`, which the example config runs). The code is
# root-owned and read-only to `node`; FORGEHAND_ENV_FILE= : compose passes the environment, no .env.
ENV PATH=/opt/agents/bin:/app/node_modules/.bin:$PATH \
    NODE_ENV=production \
    FORGEHAND_DATA_DIR=/data \
    FORGEHAND_ENV_FILE= \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000

ENTRYPOINT ["tini", "--", "node", "apps/cli/bin/forgehand.mjs"]
CMD ["start"]
