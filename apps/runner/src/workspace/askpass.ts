import { randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Git runs this with a prompt ("Username for …" / "Password for …") and reads the answer from stdout.
 * The values come from the environment of that one git call, so they never touch a URL, argv or config.
 * With no credentials it fails, and git reports "could not read Username" instead of hanging.
 */
const SCRIPT = `#!/bin/sh
case "$1" in
  Username*|username*) [ -n "$FORGEHAND_GIT_USERNAME" ] || exit 1; printf '%s\\n' "$FORGEHAND_GIT_USERNAME" ;;
  *) [ -n "$FORGEHAND_GIT_PASSWORD" ] || exit 1; printf '%s\\n' "$FORGEHAND_GIT_PASSWORD" ;;
esac
`;

/** Writes `<rootDir>/askpass.sh` (mode 0700) unless it is already there with this content; returns its path. */
export async function ensureAskpass(rootDir: string): Promise<string> {
  const path = join(rootDir, "askpass.sh");
  const current = await readFile(path, "utf8").catch(() => null);
  if (current === SCRIPT) return path;
  await mkdir(rootDir, { recursive: true });
  // Write then rename, so a concurrent git never runs a half-written script. The temp name is unique per call:
  // concurrent runs of one process (same pid, same millisecond) otherwise rename each other's file away.
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, SCRIPT, { mode: 0o700 });
  await chmod(tmp, 0o700);
  await rename(tmp, path);
  return path;
}
