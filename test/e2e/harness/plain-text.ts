/**
 * A status comment as plain words: markdown emphasis, table pipes, backticks and the hidden marker removed,
 * whitespace collapsed — so scenarios assert what a reader sees, not the comment's exact layout.
 */
export function plainText(markdown: string): string {
  return markdown
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/[*`|#_]/g, " ")
    .replace(/-{3,}/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}
