import { isTerminal } from "@forgehand/core";
import { stopRun } from "@forgehand/queue";
import { createCliContext } from "../cli-context";
import { connectRedis } from "../connect-redis";
import { parseFlags, UsageError } from "../parse-flags";
import { requireRedisTarget } from "../redis-target";

/** `forgehand stop RUN_ID`: the same as a `/stop` comment, from the operator's shell. */
export async function stopCommand(args: string[]): Promise<number> {
  const { positionals } = parseFlags("stop", args, {});
  const [runId, ...extra] = positionals;
  if (!runId || extra.length) throw new UsageError(`[cli] forgehand stop takes one RUN_ID, got ${positionals.length}`);
  const ctx = createCliContext();
  const redis = await connectRedis(requireRedisTarget("stop", ctx.env, ctx.dataDir));
  try {
    // stopRun persists the stop flag and announces it; the runner holding the run kills it (verified).
    const result = await stopRun(redis, ctx.prefix, runId, "operator");
    if (!result.found) {
      process.stderr.write(`[cli] no run \`${runId}\` (see \`forgehand runs\`)\n`);
      return 1;
    }
    if (result.state && isTerminal(result.state))
      process.stdout.write(`run ${runId} already ended (${result.state}); nothing to stop\n`);
    else process.stdout.write(`stop requested for ${runId}${result.state ? ` (was ${result.state})` : ""}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}
