#!/bin/sh
# Starts redis-server in its own session so a terminal Ctrl-C (SIGINT to the whole foreground
# process group) reaches only forgehand, which then lets the runner finish against a live Redis
# and stops this server last. `exec` keeps the pid, so the pid forgehand holds is redis-server's.
command -v redis-server >/dev/null 2>&1 || {
  echo "[redis] redis-server was not found on PATH. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL." >&2
  exit 127
}
if command -v setsid >/dev/null 2>&1; then exec setsid redis-server "$@"; fi
exec redis-server "$@"
