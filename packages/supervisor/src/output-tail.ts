/** Keeps the last bytes of a command's output in bounded memory (for a gate's status comment). */
export interface OutputTail {
  push(chunk: Buffer): void;
  text(): string;
}

/** The last `maxBytes` bytes pushed, decoded as UTF-8 (a character cut at the start shows as U+FFFD). */
export function createOutputTail(maxBytes: number): OutputTail {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      while (chunks.length > 1 && size - (chunks[0]?.length ?? 0) >= maxBytes) size -= chunks.shift()?.length ?? 0;
    },
    text() {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - maxBytes)).toString("utf8");
    },
  };
}
