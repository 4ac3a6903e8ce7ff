import type { ChainableCommander, Redis } from "ioredis";

/** The replies of one MULTI/EXEC block, or why it has none (EXECABORT, connection lost, timeout). */
export type MultiReplies = { ok: true; replies: [Error | null, unknown][] } | { ok: false; error: Error };

interface Batch {
  pipeline: ChainableCommander;
  waiters: { execIndex: number; size: number; resolve: (r: MultiReplies) => void }[];
}

// One open batch per connection: every block queued before it is flushed shares its write.
const open = new WeakMap<object, Batch>();

/**
 * Queues one MULTI/EXEC block on the connection's shared pipeline. Blocks queued in the same
 * event-loop turn (deliveries whose bodies arrived together) go out in ONE socket write, flushed
 * on `setImmediate`, i.e. after the poll phase that read them; each block stays its own
 * transaction, so atomicity per delivery is unchanged. `build` must queue its commands
 * synchronously and say how many it queued; if it throws, its block is dropped and the error
 * rethrown. Never rejects: a Redis failure is an `{ ok: false }` reply.
 */
export function batchMulti(
  client: Redis,
  build: (pipeline: ChainableCommander) => number,
  timeoutMs: number,
): Promise<MultiReplies> {
  let batch = open.get(client);
  if (!batch) {
    const fresh: Batch = { pipeline: client.pipeline(), waiters: [] };
    open.set(client, fresh);
    setImmediate(() => flush(client, fresh, timeoutMs));
    batch = fresh;
  }
  const { pipeline } = batch;
  // ioredis types `multi` on the client only; on a pipeline it opens a nested transaction block.
  (pipeline as unknown as { multi(): void }).multi();
  let size: number;
  try {
    size = build(pipeline);
  } catch (error) {
    // Close this block without running it, or every later block would land inside its MULTI:
    // DISCARD drops what was queued, and the EXEC (which ioredis needs to end its transaction
    // count) then fails harmlessly with "EXEC without MULTI".
    pipeline.discard();
    void pipeline.exec();
    throw error;
  }
  // Inside an open transaction ioredis queues EXEC on the pipeline instead of sending it.
  void pipeline.exec();
  const execIndex = pipeline.length - 1;
  return new Promise((resolve) => batch.waiters.push({ execIndex, size, resolve }));
}

function flush(client: object, batch: Batch, timeoutMs: number): void {
  open.delete(client);
  let settled = false;
  const settle = (each: (w: Batch["waiters"][number]) => MultiReplies) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    for (const w of batch.waiters) w.resolve(each(w));
  };
  // One timer per batch, not per delivery: Redis that does not answer fails every block in it.
  const timer = setTimeout(() => {
    const error = new Error(`Redis did not answer the delivery MULTI within ${timeoutMs} ms`);
    settle(() => ({ ok: false, error }));
  }, timeoutMs);
  batch.pipeline.exec().then(
    (results) =>
      settle(({ execIndex, size }) => {
        const [error, replies] = results?.[execIndex] ?? [new Error("no reply to EXEC"), null];
        if (error) return { ok: false, error };
        if (!Array.isArray(replies)) return { ok: false, error: new Error("the MULTI was discarded") };
        if (replies.length !== size)
          return { ok: false, error: new Error(`EXEC answered ${replies.length} replies for ${size} commands`) };
        return { ok: true, replies: replies.map((r) => (r instanceof Error ? [r, null] : [null, r])) };
      }),
    (error: Error) => settle(() => ({ ok: false, error })),
  );
}
