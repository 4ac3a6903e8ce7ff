import { neutraliseMentions, sanitiseUntrusted } from "@forgehand/core";

/** A summary longer than this (characters or lines) is folded in `<details>`. */
const FOLD_CHARS = 1_500;
const FOLD_LINES = 25;

/**
 * The "Summary" section of a final status comment: the agent's final message as Markdown (a plan reads as
 * one), with secrets redacted (`clean`, before the cut), hidden parts and the bot's markers removed and
 * mentions neutralised; folded when long, capped at `room` characters (the run log has all of it).
 * A stage whose output is posted on its own (`output: comment | review`) gets a pointer instead.
 */
export function summaryLines(output: string, mode: string, clean: (text: string) => string, room: number): string[] {
  if (mode !== "summary") return ["**Output:** posted as its own comment below."];
  let text = neutraliseMentions(sanitiseUntrusted(clean(output)))
    .replace(/\r\n?/g, "\n")
    .trim();
  if (!text) return [];
  if (text.length > room) text = `${text.slice(0, room)}\n\n… [cut; the full text is in the run log]`;
  // A `</details>` in the text would close the fold early: defused like the bot's own markup.
  text = text.replace(/<(\/?)(details|summary)/gi, "&lt;$1$2");
  const fold = text.length > FOLD_CHARS || text.split("\n").length > FOLD_LINES;
  if (fold) return ["<details><summary><b>Summary</b></summary>", "", text, "", "</details>"];
  return ["#### Summary", "", text];
}
