import { randomBytes } from "node:crypto";
import type { WorkspaceContext } from "./context";

/**
 * The most output of the scan's `git log -p` that is read (20 MiB). A change larger than that is not pushed:
 * what was not read cannot be known to be free of secrets (fail closed). The run fails saying so.
 */
export const PUSH_SCAN_MAX_BYTES = 20 * 1024 * 1024;

/** A push refused because what it would publish holds a secret forgehand holds; the message never holds the value. */
export class SecretInPushError extends Error {
  override name = "SecretInPushError";
  constructor(
    /**
     * Why, safe to post: "file `src/x.ts` (commit 0123abcd4567) holds the value of a secret forgehand holds
     * (not shown)", or that the change was too large to check.
     */
    readonly reason: string,
  ) {
    super(`[workspace] Refusing to push: ${reason}; nothing was pushed`);
  }
}

type Git = (args: string[], extra?: Parameters<WorkspaceContext["git"]>[2]) => ReturnType<WorkspaceContext["git"]>;

/**
 * Before a push: everything it would publish that no remote branch has yet — per new commit its author and
 * committer, its message and its patch (added and removed lines, file names; binary files as text; a merge
 * against its first parent) — in ONE `git log -p` call, checked for the literal values of the secrets
 * forgehand holds (`containsSecret`: the redactor's literal layer, not its token patterns). Per-commit patches,
 * not the net diff: a key added and removed again is still in the pushed history. Throws a `SecretInPushError`
 * naming the file or the commit message, never the value; also when the output exceeds `maxBytes` (fail closed).
 * The decision rests on the whole output; the parse only names the place.
 */
export async function scanPush(
  git: Git,
  containsSecret: (text: string) => boolean,
  maxBytes = PUSH_SCAN_MAX_BYTES,
): Promise<void> {
  // Commit headers are framed by NUL + a random nonce: a file (shown as text) may hold NULs, never this nonce.
  const nonce = randomBytes(12).toString("hex");
  const frame = `%x00${nonce}`;
  const { stdout, truncated } = await git(
    [
      "log",
      "-p",
      "--text",
      "--unified=0",
      "--no-color",
      "--no-ext-diff",
      "--no-textconv",
      "--no-renames",
      "--no-prefix",
      "--diff-merges=first-parent",
      `--format=${frame}%H%n%an <%ae>%n%cn <%ce>%n%B${frame}`,
      "HEAD",
      "--not",
      "--remotes=origin",
    ],
    { maxOutputBytes: maxBytes },
  );
  if (truncated) {
    const mib = Math.round((maxBytes / 1024 / 1024) * 10) / 10;
    throw new SecretInPushError(`the new commits' patches are over ${mib} MiB, too large to check for secrets`);
  }
  if (!containsSecret(stdout)) return;
  const where = locate(stdout, `\0${nonce}`, containsSecret);
  throw new SecretInPushError(`${where} holds the value of a secret forgehand holds (not shown)`);
}

/** Where in the `git log -p` output (`frame`d commit headers, each followed by its patch) the first secret is. */
function locate(out: string, frame: string, containsSecret: (text: string) => boolean): string {
  const parts = out.split(frame);
  for (let i = 1; i < parts.length; i += 2) {
    const header = parts[i] ?? "";
    const commit = /^[0-9a-f]{40,64}/.test(header) ? header.slice(0, 12) : "?";
    if (containsSecret(header)) return `the message or author of commit ${commit}`;
    const patch = parts[i + 1] ?? "";
    if (!containsSecret(patch)) continue;
    for (const file of patch.split(/\n(?=diff --git )/)) {
      if (!containsSecret(file)) continue;
      const head = file.split(/\n(?=@@ )/, 1)[0] ?? "";
      if (containsSecret(head)) return `a file name in commit ${commit}`;
      return `file \`${fileName(head)}\` (commit ${commit})`;
    }
    return `the changes of commit ${commit}`;
  }
  return "the new commits";
}

/** The path of a patch's file header (`+++ path`, or `--- path` for a deletion), made safe to show. */
function fileName(head: string): string {
  const lines = head.split("\n");
  const pick = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
  const plus = pick("+++ ");
  const path = plus && plus !== "/dev/null" ? plus : (pick("--- ") ?? lines[0]?.replace(/^diff --git /, "") ?? "?");
  // Agent-chosen text going into a status comment: no backticks, no control characters, bounded.
  return path.replace(/[`\p{Cc}]/gu, "?").slice(0, 200);
}
