import type { RunRecord } from "@forgehand/core";
import type { RunStore } from "@forgehand/queue";
import { waitFor } from "../../../../test/helpers/wait-for";

/** Polls the run store until `runId` leaves queued/running; returns that record. A timeout shows the last record seen. */
export async function waitForRunEnd(
  store: RunStore,
  runId: string,
  poll: { timeoutMs: number; intervalMs: number },
): Promise<RunRecord> {
  let last: RunRecord | null = null;
  try {
    return await waitFor(
      `run ${runId} to end`,
      async () => {
        last = await store.get(runId);
        return last && !["queued", "running"].includes(last.state) ? last : undefined;
      },
      poll,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last record: ${JSON.stringify(last)}`, { cause: error });
  }
}
