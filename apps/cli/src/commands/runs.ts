import { createRunStore, createSpendLedger } from "@forgehand/queue";
import { createCliContext } from "../cli-context";
import { connectRedis } from "../connect-redis";
import { formatRunsTable } from "../format-runs";
import { formatSpendTable } from "../format-spend";
import { parseFlags, positiveInt } from "../parse-flags";
import { requireRedisTarget } from "../redis-target";

/** `forgehand runs [--json] [--limit N]`: recent runs from the run store in Redis, then spend per repository and day. */
export async function runsCommand(args: string[]): Promise<number> {
  const { values } = parseFlags("runs", args, { json: { type: "boolean" }, limit: { type: "string" } });
  const ctx = createCliContext();
  const limit = positiveInt("--limit", values.limit) ?? 20;
  const redis = await connectRedis(requireRedisTarget("runs", ctx.env, ctx.dataDir));
  try {
    const store = createRunStore(redis, ctx.prefix);
    // The store returns only records that parse as runs; a malformed hash in Redis is left out.
    const runs = await store.list({ limit });
    if (values.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    else {
      process.stdout.write(runs.length ? `${formatRunsTable(runs)}\n` : "no runs yet\n");
      // Today's and yesterday's spend (the `budgets:` ledger, counted live by every runner).
      const spend = formatSpendTable(await createSpendLedger(redis, ctx.prefix, {}).daily(2));
      if (spend) process.stdout.write(`\n${spend}\n`);
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}
