import { BodyBudgetError, BodyTimeoutError, DEFAULT_BODY_TIMEOUT_MS, type ReadLimits } from "./body-budget";

/** GitHub does not deliver payloads over 25 MB; nothing legitimate is bigger. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

/** The body was larger than the limit; reading stopped at the limit. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * Reads a request body as bytes, never holding more than `limit` bytes: a declared
 * Content-Length over the limit fails before reading, and a streamed body is cancelled
 * as soon as it crosses the limit (chunked uploads carry no length), or crosses the in-flight
 * budget, or takes longer than `timeoutMs`.
 */
export async function readBody(req: Request, limit = MAX_BODY_BYTES, opts: ReadLimits = {}): Promise<Buffer> {
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit)
    throw new BodyTooLargeError(`[webhook] body of ${declared} bytes is over the ${limit}-byte limit`);
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BodyTimeoutError(`[webhook] the body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const fail = async (error: Error): Promise<never> => {
    await reader.cancel().catch(() => {});
    throw error;
  };
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]).catch(fail);
      if (done) break;
      size += value.byteLength;
      if (size > limit)
        return await fail(
          new BodyTooLargeError(`[webhook] body is over the ${limit}-byte limit (read ${size} bytes so far)`),
        );
      if (opts.reservation && !opts.reservation.take(value.byteLength))
        return await fail(new BodyBudgetError("[webhook] too many request bytes in flight; retry shortly"));
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks, size);
}
