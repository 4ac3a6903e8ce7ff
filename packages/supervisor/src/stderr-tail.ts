/** Keeps the last stderr lines of a run in bounded memory (for failure classification and the status comment). */
export interface StderrTail {
  push(line: string): void;
  text(): string;
}

/** A ring of at most `maxLines` lines, each cut to `maxLineChars`. */
export function createStderrTail(maxLines = 40, maxLineChars = 500): StderrTail {
  const lines: string[] = [];
  return {
    push(line) {
      lines.push(line.length > maxLineChars ? `${line.slice(0, maxLineChars)}…` : line);
      if (lines.length > maxLines) lines.shift();
    },
    text: () => lines.join("\n"),
  };
}
