import { randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@forgehand/core";

/**
 * The whole config of every mirror: what `git init --bare` writes, and nothing else. The runner passes remote
 * URLs on the command line and its other settings with `-c`, so no key of a mirror config is ever the
 * runner's to add. Anything more came from someone else (an agent that could write the mirror) and could
 * steer the runner's git: `filter.*.clean` runs on `git add`, `url.*.insteadOf`/`pushInsteadOf` redirect
 * fetch and push, `core.sshCommand`/`core.gitProxy` run commands, `include.path` pulls in more, and
 * `extensions.worktreeConfig` turns on the worktrees' own `config.worktree` files.
 */
export const MIRROR_CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n";

/**
 * Makes `<mirror>/config` exactly MIRROR_CONFIG before a git call: one file read when it already is.
 * Rewritten, not refused, so one tampering agent does not break the repository for every later issue;
 * the foreign keys are logged.
 */
export async function guardMirrorConfig(mirror: string, log: Logger): Promise<void> {
  const file = join(mirror, "config");
  const current = await readFile(file, "utf8").catch(() => null);
  // No config at all: nothing to obey (and no mirror yet, or git fails on it by itself).
  if (current === MIRROR_CONFIG || current === null) return;
  log.warn("mirror config has keys forgehand did not write; rewriting it", {
    mirror,
    keys: configKeys(current).slice(0, 50),
  });
  await writeMirrorConfig(mirror);
}

/** Writes MIRROR_CONFIG atomically (temp file + rename), so a concurrent git never reads half a file. */
export async function writeMirrorConfig(mirror: string): Promise<void> {
  const file = join(mirror, "config");
  // Unique per call: two git calls of one process can rewrite the same mirror in the same millisecond.
  const tmp = `${file}.forgehand-${process.pid}-${randomUUID()}`;
  await writeFile(tmp, MIRROR_CONFIG, { mode: 0o644 });
  await rename(tmp, file);
}

/** `section.sub.key` names in a git config text, for the log (values are not shown: they may be secrets). */
export function configKeys(text: string): string[] {
  const keys: string[] = [];
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]\s"]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
    if (header) {
      section = header[2] === undefined ? (header[1] ?? "") : `${header[1]}.${header[2]}`;
      continue;
    }
    const key = /^([A-Za-z][A-Za-z0-9-]*)/.exec(line)?.[1];
    if (key) keys.push(`${section}.${key}`.toLowerCase());
  }
  return keys;
}
