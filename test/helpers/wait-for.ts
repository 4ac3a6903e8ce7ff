/** Polls `probe` until it returns a truthy value; fails after `timeoutMs` naming `what` and the last value seen. */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 60_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const shown = last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 300);
      throw new Error(`[test] timed out after ${timeoutMs} ms waiting for ${what} (last: ${shown})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
