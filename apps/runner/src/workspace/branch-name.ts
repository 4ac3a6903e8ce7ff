/** Longest slug kept after the issue number, so branch names stay readable in forge UIs. */
export const SLUG_MAX = 40;

/**
 * The bot's branch for an issue: `forgehand/12-fix-the-login-bug`.
 * The title only ever becomes `[a-z0-9-]`, so a hostile title (`--upload-pack=…`, `../..`, `@{`) cannot
 * turn into a git flag or an unsafe ref.
 */
export function branchName(prefix: string, issue: number, title: string): string {
  validateBranchPrefix(prefix);
  if (!Number.isSafeInteger(issue) || issue <= 0) {
    throw new Error(`[workspace] Expected \`issue\` to be a positive integer, got \`${issue}\``);
  }
  const slug = slugify(title);
  return slug ? `${prefix}/${issue}-${slug}` : `${prefix}/${issue}`;
}

/** ASCII, lowercase, `[a-z0-9-]`, at most `SLUG_MAX` characters, no leading/trailing dash. */
export function slugify(title: string): string {
  return (
    title
      // NFKD splits "é" into "e" + a combining mark, which the next step drops.
      .normalize("NFKD")
      .replace(/\p{M}+/gu, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, SLUG_MAX)
      .replace(/-+$/, "")
  );
}

/** Rejects a configured prefix that git would refuse or read as a flag (see git-check-ref-format). */
export function validateBranchPrefix(prefix: string): void {
  const ok =
    /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(prefix) &&
    !prefix.endsWith("/") &&
    !prefix.includes("..") &&
    !prefix.includes("//") &&
    !prefix.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock"));
  if (!ok) {
    throw new Error(
      `[workspace] Expected \`branchPrefix\` to be a safe git ref prefix like "forgehand", got \`${prefix}\``,
    );
  }
}

/** Branch names from payloads or callers: refuse what git could read as a flag, a glob or a bad ref. */
export function validateBranch(what: string, name: string): void {
  const ok =
    /^[A-Za-z0-9_][A-Za-z0-9._/+@-]*$/.test(name) &&
    !name.includes("..") &&
    !name.includes("//") &&
    !name.includes("@{") &&
    !name.endsWith("/") &&
    !name.endsWith(".lock") &&
    !name.endsWith(".");
  if (!ok) throw new Error(`[workspace] Expected \`${what}\` to be a git branch name, got \`${name}\``);
}
