import { constants } from "node:fs";
import { chown, lstat, mkdir, open, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { AGENT_SESSION_MAX_BYTES, AGENT_SESSION_MAX_FILES, isSafeHomePath } from "@forgehand/queue";

/** One file of a session, relative to the agent's HOME, base64. */
export interface SessionFile {
  path: string;
  data: string;
}

/**
 * Claude Code's project directory name for a cwd (`/srv/x/wt/1` → `-srv-x-wt-1`): every character but
 * letters and digits becomes `-`. Checked against the real CLI 2.1.332 (`~/.claude/projects/<slug>/<session>.jsonl`).
 */
export function claudeProjectSlug(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, "-");
}

const PROJECTS = ".claude/projects";

/** Regular files under `dir` (symlinks and other kinds skipped), recursively, at most `max`. */
async function regularFiles(dir: string, max: number): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (out.length > max) return;
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/**
 * The files of Claude session `sessionId` under `home`: its transcript `projects/<slug>/<id>.jsonl` and the
 * session's own directory beside it (subagent transcripts, tool results), wherever the slug is. Null when
 * there is none, or it is over the caps (then nothing is saved and a retry elsewhere starts fresh).
 */
export async function collectClaudeSession(
  home: string,
  sessionId: string,
  caps: { maxBytes?: number; maxFiles?: number } = {},
): Promise<SessionFile[] | null> {
  const maxBytes = caps.maxBytes ?? AGENT_SESSION_MAX_BYTES;
  const maxFiles = caps.maxFiles ?? AGENT_SESSION_MAX_FILES;
  const projects = join(home, PROJECTS);
  const paths: string[] = [];
  for (const entry of await readdir(projects, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const transcript = join(projects, entry.name, `${sessionId}.jsonl`);
    const st = await lstat(transcript).catch(() => null);
    if (!st?.isFile()) continue;
    paths.push(transcript, ...(await regularFiles(join(projects, entry.name, sessionId), maxFiles)));
  }
  if (paths.length === 0 || paths.length > maxFiles) return null;
  const files: SessionFile[] = [];
  let bytes = 0;
  for (const p of paths) {
    const data = await readFile(p);
    bytes += data.length;
    if (bytes > maxBytes) return null;
    files.push({ path: relative(home, p), data: data.toString("base64") });
  }
  return files;
}

/** Why a restore refused a saved file. */
export class UnsafeSessionPathError extends Error {}

/**
 * Writes one file under `home` without ever following a link: every directory on the way must be a real
 * directory (created when missing, owned by `owner`), the file is opened O_NOFOLLOW and replaced in place.
 */
async function writeUnder(home: string, rel: string, data: Buffer, owner?: { uid: number; gid: number }) {
  if (!isSafeHomePath(rel)) throw new UnsafeSessionPathError(`refused \`${rel}\`: not a plain path under HOME`);
  const segments = rel.split("/");
  let dir = home;
  for (const seg of segments.slice(0, -1)) {
    dir = join(dir, seg);
    const st = await lstat(dir).catch(() => null);
    if (!st) {
      await mkdir(dir, { mode: 0o700 });
      if (owner) await chown(dir, owner.uid, owner.gid);
    } else if (!st.isDirectory() || st.isSymbolicLink())
      throw new UnsafeSessionPathError(`refused \`${rel}\`: \`${relative(home, dir)}\` is not a directory`);
  }
  const file = join(dir, segments.at(-1) as string);
  const st = await lstat(file).catch(() => null);
  if (st && !st.isFile()) throw new UnsafeSessionPathError(`refused \`${rel}\`: exists and is not a regular file`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  const fh = await open(file, flags, 0o600);
  try {
    await fh.writeFile(data);
    if (owner) await fh.chown(owner.uid, owner.gid);
  } finally {
    await fh.close();
  }
}

/**
 * Restores saved session files into `home` for an agent whose cwd is now `worktree` (it was `savedWorktree`):
 * the project directory is renamed to the new cwd's slug and the old path inside the transcripts replaced, so
 * `--resume` finds the session on a runner whose data dir differs. Only files under `.claude/projects/` are
 * written; anything else in the saved state is refused. Returns how many files were written.
 */
export async function restoreClaudeSession(opts: {
  home: string;
  files: readonly SessionFile[];
  savedWorktree: string;
  worktree: string;
  owner?: { uid: number; gid: number };
}): Promise<number> {
  const { home, savedWorktree, worktree } = opts;
  const from = `${PROJECTS}/${claudeProjectSlug(savedWorktree)}/`;
  const to = `${PROJECTS}/${claudeProjectSlug(worktree)}/`;
  // Paths in a transcript are JSON strings: replace the escaped form.
  const esc = (s: string) => JSON.stringify(s).slice(1, -1);
  const st = await lstat(home).catch(() => null);
  if (!st) {
    await mkdir(home, { recursive: true, mode: 0o700 });
    if (opts.owner) await chown(home, opts.owner.uid, opts.owner.gid);
  } else if (!st.isDirectory()) throw new UnsafeSessionPathError("the agent HOME is not a directory");
  let written = 0;
  for (const file of opts.files) {
    if (!file.path.startsWith(from))
      throw new UnsafeSessionPathError(`refused \`${file.path}\`: not in the saved session's project directory`);
    const rel = to + file.path.slice(from.length);
    let data = Buffer.from(file.data, "base64");
    // Transcripts are JSON lines; anything else is restored byte for byte.
    if (savedWorktree !== worktree && /\.jsonl?$/.test(rel))
      data = Buffer.from(data.toString("utf8").split(esc(savedWorktree)).join(esc(worktree)));
    await writeUnder(home, rel, data, opts.owner);
    written++;
  }
  return written;
}
