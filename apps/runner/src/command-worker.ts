import type { Config, Logger } from "@forgehand/core";
import { createPermissionCache, type ForgeClients } from "@forgehand/forge";
import { COMMAND_QUEUE, CommandJob } from "@forgehand/queue";
import { UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { CommandCallbacks } from "./command-callbacks";
import { handleCommandJob } from "./commands";

export interface CommandWorkerOptions {
  /** A connection of its own; the caller closes it after the worker. */
  connection: Redis;
  prefix: string;
  config: Config;
  forges: ForgeClients;
  logger: Logger;
  callbacks: CommandCallbacks;
}

/** Commands are short and on their own queue, so /stop is never stuck behind running stages. */
export function createCommandWorker(opts: CommandWorkerOptions): Worker {
  const { config, forges, logger, callbacks } = opts;
  const permissions = createPermissionCache(config.commands.permissionCacheTtl);
  const worker = new Worker(
    COMMAND_QUEUE,
    async (job) => {
      const parsed = CommandJob.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(`[runner] job ${job.id} is not a command job: ${parsed.error.issues[0]?.message}`);
      const ref = parsed.data.ref;
      const botLogin = forges.botLogin(ref.repo.forge);
      await handleCommandJob(parsed.data, {
        config,
        forge: forges.for(ref.repo.forge, ref.installationId),
        ...(botLogin ? { botLogin } : {}),
        permissions,
        logger: logger.child({ commentId: parsed.data.commentId }),
        ...callbacks,
      });
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: 4 },
  );
  worker.on("error", (error) => logger.warn("command worker error", { error }));
  worker.on("failed", (job, error) => logger.error("command job failed", { jobId: job?.id, error }));
  return worker;
}
