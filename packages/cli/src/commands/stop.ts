import { isTerminal, RunState } from "@forgehand/core";
import { requestStop } from "@forgehand/queue";
import { createCliContext } from "../cli-context";
import { type CliRedis, connectRedis } from "../connect-redis";
import { parseFlags, UsageError } from "../parse-flags";
import { loadRunStore, loadStopRun, NotAvailableError } from "../parts";
import { requireRedisTarget } from "../redis-target";

/** `forgehand stop RUN_ID`: the same as a `/stop` comment, from the operator's shell. */
export async function stopCommand(args: string[]): Promise<number> {
  const { positionals } = parseFlags("stop", args, {});
  const [runId, ...extra] = positionals;
  if (!runId || extra.length) throw new UsageError(`[cli] forgehand stop takes one RUN_ID, got ${positionals.length}`);
  const ctx = createCliContext();
  const redis = await connectRedis(requireRedisTarget("stop", ctx.env, ctx.dataDir));
  try {
    const result = await stopWith(redis, ctx.prefix, runId);
    if (!result.found) {
      process.stderr.write(`[cli] no run \`${runId}\` (see \`forgehand runs\`)\n`);
      return 1;
    }
    const parsed = RunState.safeParse(result.state);
    if (parsed.success && isTerminal(parsed.data))
      process.stdout.write(`run ${runId} already ended (${parsed.data}); nothing to stop\n`);
    else process.stdout.write(`stop requested for ${runId}${result.state ? ` (was ${result.state})` : ""}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

// Prefer the runner's stopRun (it knows run states); without it, check the run store and
// publish the persisted stop request ourselves, which every runner also honours.
async function stopWith(redis: CliRedis, prefix: string, runId: string) {
  try {
    const stopRun = await loadStopRun();
    return await stopRun(redis, prefix, runId, "operator");
  } catch (error) {
    if (!(error instanceof NotAvailableError)) throw error;
  }
  const store = await loadRunStore(redis, prefix);
  const record = (await store.get(runId)) as { state?: string } | null | undefined;
  if (!record) return { found: false };
  const state = RunState.safeParse(record.state);
  if (state.success && isTerminal(state.data)) return { found: true, state: state.data };
  await requestStop(redis, prefix, { runId, by: "operator", reason: "operator", at: Date.now() });
  return { found: true, ...(record.state ? { state: record.state } : {}) };
}
