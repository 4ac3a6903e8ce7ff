import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Logger, redactUrl } from "@forgehand/core";
import { loadOrCreateRedisPassword, type RedisServerHandle, startRedisServer } from "@forgehand/queue";
import { cliPackageDir } from "./package-root";
import type { CleanupStack } from "./shutdown";

function sessionWrapper(): string | undefined {
  const wrapper = join(cliPackageDir(), "bin", "redis-server-session.sh");
  return existsSync(wrapper) ? wrapper : undefined;
}

/**
 * Starts the private redis-server used when REDIS_URL is unset (AOF on, data in
 * `<dataDir>/redis`, 0700). It requires the password kept in `<dataDir>/redis/password` (generated 0600 on
 * the first start, reused after; a file others can read stops the start), so no other local process, an
 * agent included, can reach the queue. It is stopped last on shutdown, and killed on any exit path so no
 * redis-server outlives forgehand.
 */
export async function startEmbeddedRedis(
  dataDir: string,
  logger: Logger,
  cleanup: CleanupStack,
): Promise<RedisServerHandle> {
  const wrapper = sessionWrapper();
  const redisDir = join(dataDir, "redis");
  const server = await startRedisServer({
    dataDir: redisDir,
    password: loadOrCreateRedisPassword(redisDir),
    ...(wrapper ? { binary: wrapper } : {}),
    onNote: (note) => logger.warn("embedded redis", { note }),
  });
  // Safety net for crashes and process.exit(): 'exit' handlers run synchronously, and kill() is synchronous.
  const killOnExit = () => {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGTERM");
  };
  process.on("exit", killOnExit);
  // Lets `forgehand runs` / `stop` / `doctor` in another shell find this private server. Without the password:
  // they read it from the password file, which only our uid can.
  const urlFile = embeddedUrlFile(dataDir);
  writeFileSync(urlFile, `redis://127.0.0.1:${server.port}\n`, { mode: 0o600 });
  cleanup.push("embedded redis", async () => {
    rmSync(urlFile, { force: true });
    await server.stop();
    process.off("exit", killOnExit);
  });
  logger.info("embedded redis started", { url: redactUrl(server.url), pid: server.pid, dataDir: server.dataDir });
  return server;
}

/** File where a running `forgehand start` records its embedded Redis URL. */
export function embeddedUrlFile(dataDir: string): string {
  return join(dataDir, "redis", "url");
}
