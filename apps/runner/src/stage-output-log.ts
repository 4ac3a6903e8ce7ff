import type { LogStream } from "@forgehand/queue";

/** Run-log lines are cut at 8,000 characters; the output is written in pieces under that. */
const PIECE = 7_000;

/** Writes a stage's whole output to the run log (the record and comments keep a capped copy). */
export function logStageOutput(onLog: (stream: LogStream, line: string) => void, output: string): void {
  onLog("system", `stage output (${output.length} characters):`);
  let piece = "";
  for (const line of output.split("\n")) {
    for (let i = 0; i < Math.max(1, line.length); i += PIECE) {
      const part = line.slice(i, i + PIECE);
      if (piece && piece.length + part.length + 1 > PIECE) {
        onLog("system", piece);
        piece = "";
      }
      piece = piece ? `${piece}\n${part}` : part;
    }
  }
  if (piece) onLog("system", piece);
}
