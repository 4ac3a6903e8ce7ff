/** Longest stdout line kept whole; the rest of a longer line is dropped (Claude tool results can be megabytes). */
export const MAX_LINE_CHARS = 8 * 1024 * 1024;

/** Incremental splitter: feed it decoded chunks, it calls `onLine` once per complete line (LF or CRLF). */
export interface LineSplitter {
  push(chunk: string): void;
  /** Emits a final line that had no trailing newline. */
  end(): void;
}

/**
 * Splits a stream into lines without re-scanning earlier data: only the new chunk is searched for newlines and a
 * partial line is kept as a list of parts, so a very long line costs O(length), not O(length²).
 */
export function createLineSplitter(onLine: (line: string) => void, maxLineChars = MAX_LINE_CHARS): LineSplitter {
  let parts: string[] = [];
  let partLength = 0;
  let overflow = false;

  const emit = (tail: string) => {
    let line = parts.length > 0 ? parts.join("") + tail : tail;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    parts = [];
    partLength = 0;
    const wasOverflow = overflow;
    overflow = false;
    onLine(wasOverflow || line.length > maxLineChars ? line.slice(0, maxLineChars) : line);
  };

  return {
    push(chunk) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf("\n", start);
        if (nl < 0) break;
        emit(chunk.slice(start, nl));
        start = nl + 1;
      }
      if (start >= chunk.length) return;
      const rest = chunk.slice(start);
      if (overflow) return;
      if (partLength + rest.length > maxLineChars) {
        parts.push(rest.slice(0, maxLineChars - partLength));
        partLength = maxLineChars;
        overflow = true;
        return;
      }
      parts.push(rest);
      partLength += rest.length;
    },
    end() {
      if (partLength > 0 || overflow) emit("");
    },
  };
}
