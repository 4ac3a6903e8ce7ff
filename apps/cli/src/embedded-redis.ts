import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@forgehand/core";
import { type RedisServerHandle, startRedisServer } from "@forgehand/queue";
import { cliPackageDir } from "./package-root";
import type { CleanupStack } from "./shutdown";

function sessionWrapper(): string | undefined {
  const wrapper = join(cliPackageDir(), "bin", "redis-server-session.sh");
  return existsSync(wrapper) ? wrapper : undefined;
}

/**
 * Starts the private redis-server used when REDIS_URL is unset (AOF on, data in
 * `<dataDir>/redis`). It is stopped last on shutdown, and killed on any exit path so
 * no redis-server outlives forgehand.
 */
export async function startEmbeddedRedis(
  dataDir: string,
  logger: Logger,
  cleanup: CleanupStack,
): Promise<RedisServerHandle> {
  const wrapper = sessionWrapper();
  const server = await startRedisServer({
    dataDir: join(dataDir, "redis"),
    ...(wrapper ? { binary: wrapper } : {}),
    onNote: (note) => logger.warn("embedded redis", { note }),
  });
  // Safety net for crashes and process.exit(): 'exit' handlers run synchronously, and kill() is synchronous.
  const killOnExit = () => {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGTERM");
  };
  process.on("exit", killOnExit);
  // Lets `forgehand runs` / `stop` / `doctor` in another shell find this private server.
  const urlFile = embeddedUrlFile(dataDir);
  writeFileSync(urlFile, `${server.url}\n`);
  cleanup.push("embedded redis", async () => {
    rmSync(urlFile, { force: true });
    await server.stop();
    process.off("exit", killOnExit);
  });
  logger.info("embedded redis started", { url: server.url, pid: server.pid, dataDir: server.dataDir });
  return server;
}

/** File where a running `forgehand start` records its embedded Redis URL. */
export function embeddedUrlFile(dataDir: string): string {
  return join(dataDir, "redis", "url");
}
