/** The hidden marker that lets a (restarted) runner find a run's status comment again. */
export function statusMarker(runId: string): string {
  if (!/^[A-Za-z0-9_.:-]+$/.test(runId)) throw new Error(`[forge] run id must be a plain token, got "${runId}"`);
  return `<!-- forgehand:run=${runId} -->`;
}
