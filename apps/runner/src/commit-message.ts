import { stripInvisibleCharacters } from "@forgehand/core";
import { capText } from "@forgehand/queue";

/** Longest issue title kept in a commit message. */
const TITLE_MAX = 200;

/**
 * The message of a stage's commit. The issue title is hostile text: it is made one line (newlines
 * and other whitespace runs become one space, invisible characters go) and put after `Issue #N:`,
 * so it can never start a line of its own. A line such as `Co-authored-by: …` or `Signed-off-by: …`
 * in the last paragraph would otherwise be read as a trailer by git and by the forge.
 */
export function commitMessage(stage: string, issueNumber: number, title: string): string {
  const line = stripInvisibleCharacters(title).replace(/\s+/g, " ").trim();
  const cut = line.length > TITLE_MAX ? `${capText(line, TITLE_MAX - 1)}…` : line;
  return `forgehand: ${stage} for #${issueNumber}\n\nIssue #${issueNumber}: ${cut || "(untitled)"}`;
}
