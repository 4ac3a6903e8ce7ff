import { isTerminal, type RunState } from "@forgehand/core";
import type { Redis } from "ioredis";
import { createRunStore } from "./run-store";
import { requestStop } from "./stop-requests";

/**
 * `forgehand stop RUN_ID`: the same as `/stop`, for one run. The flag is persisted and
 * announced; the runner holding the run kills it (verified), a queued run is cancelled
 * when its job comes up. A run that already ended is left alone.
 */
export async function stopRun(
  redis: Redis,
  prefix: string,
  runId: string,
  by: string,
): Promise<{ found: boolean; state?: RunState }> {
  const record = await createRunStore(redis, prefix).get(runId);
  if (!record) return { found: false };
  if (!isTerminal(record.state)) await requestStop(redis, prefix, { runId, by, reason: "operator", at: Date.now() });
  return { found: true, state: record.state };
}
