/** GitHub does not deliver payloads over 25 MB; nothing legitimate is bigger. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

/** The body was larger than the limit; reading stopped at the limit. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * Reads a request body as bytes, never holding more than `limit` bytes: a declared
 * Content-Length over the limit fails before reading, and a streamed body is cancelled
 * as soon as it crosses the limit (chunked uploads carry no length).
 */
export async function readBody(req: Request, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit)
    throw new BodyTooLargeError(`[webhook] body of ${declared} bytes is over the ${limit}-byte limit`);
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(`[webhook] body is over the ${limit}-byte limit (read ${size} bytes so far)`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
