# One image for every forgehand service: `start`, `webhook`, `runner` (see docker-compose.yml).
FROM node:20-slim

# git: mirrors, worktrees and pushes. redis-server: only for `forgehand start` without REDIS_URL
# (the compose file uses its own redis service). tini reaps the agents' grandchildren and
# forwards SIGTERM so runners shut down gracefully. bubblewrap: the sandbox every agent and gate
# runs in (as the `node` user it needs an unprivileged user namespace: see the runner's
# security_opt in docker-compose.yml and README § Security model).
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates redis-server tini bubblewrap \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# npm install rather than npm ci: the lock file may lack another platform's optional binaries
# (esbuild, turbo, biome), the same reason scripts/prereqs.mjs uses it.
RUN npm install --no-audit --no-fund && npm run build

# Run as the unprivileged `node` user; its HOME holds agent CLI credentials (e.g. ~/.claude).
RUN mkdir -p /data && chown -R node:node /data /app
USER node
# node_modules/.bin holds the bundled Claude Code CLI (`claude`) that the example config runs.
ENV PATH=/app/node_modules/.bin:$PATH \
    NODE_ENV=production \
    FORGEHAND_DATA_DIR=/data \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000

ENTRYPOINT ["tini", "--", "node", "apps/cli/bin/forgehand.mjs"]
CMD ["start"]
