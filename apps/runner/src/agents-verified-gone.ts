import { readPidEntries } from "@forgehand/supervisor";
import type { RunnerBeacon } from "./runner-beacon";

/**
 * Whether every agent a dead runner (same host) started is verified gone: its pid registry holds no entry of its
 * process. Entries are written before each spawn and removed only once the agent's kill is verified (by the runner
 * itself, or by its guardian right after the runner died, ~60 ms), so an empty registry is the guardian's marker.
 * Unreadable or untrusted files count as "not known": the caller then waits for the lease to lapse instead.
 */
export async function agentsVerifiedGone(dead: RunnerBeacon): Promise<boolean> {
  let read: Awaited<ReturnType<typeof readPidEntries>>;
  try {
    read = await readPidEntries(dead.registryDir);
  } catch {
    return false;
  }
  if (read.bad.length > 0 || read.rejected.length > 0) return false;
  // Matched on the pid alone when either start time is missing: more entries count, never fewer.
  return !read.entries.some(
    (e) =>
      e.supervisorPid === dead.pid &&
      (e.supervisorStartTime === undefined || dead.startTime === undefined || e.supervisorStartTime === dead.startTime),
  );
}
