import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { claudeProjectSlug, collectClaudeSession, restoreClaudeSession } from "./claude-session-files";

const SID = "11111111-2222-3333-4444-555555555555";
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "fh-sess-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A HOME holding one Claude session as the real CLI lays it out, for cwd `worktree`. */
function homeWithSession(worktree: string): string {
  const home = tmp();
  const project = join(home, ".claude/projects", claudeProjectSlug(worktree));
  mkdirSync(join(project, SID, "subagents"), { recursive: true });
  writeFileSync(join(project, `${SID}.jsonl`), `${JSON.stringify({ cwd: worktree, sessionId: SID })}\n`);
  writeFileSync(join(project, SID, "subagents", "a.jsonl"), "{}\n");
  writeFileSync(join(project, "other-session.jsonl"), "not ours\n");
  symlinkSync("/etc/passwd", join(project, SID, "planted"));
  return home;
}

describe("Claude session files", () => {
  it("slugs a cwd as the CLI does", () => {
    expect(claudeProjectSlug("/tmp/fh-e2e-rBIJpt/data/workspaces/worktrees/github/acme/widgets/1")).toBe(
      "-tmp-fh-e2e-rBIJpt-data-workspaces-worktrees-github-acme-widgets-1",
    );
  });

  it("collects only the session's own regular files, and restores them for another runner's worktree", async () => {
    const a = "/srv/runner-a/worktrees/github/acme/widgets/7";
    const b = "/data/b/worktrees/github/acme/widgets/7";
    const files = await collectClaudeSession(homeWithSession(a), SID);
    expect(files?.map((f) => f.path).sort()).toEqual([
      `.claude/projects/${claudeProjectSlug(a)}/${SID}.jsonl`,
      `.claude/projects/${claudeProjectSlug(a)}/${SID}/subagents/a.jsonl`,
    ]);
    const home = tmp();
    const n = await restoreClaudeSession({ home, files: files!, savedWorktree: a, worktree: b });
    expect(n).toBe(2);
    const restored = join(home, ".claude/projects", claudeProjectSlug(b), `${SID}.jsonl`);
    expect(JSON.parse(readFileSync(restored, "utf8"))).toEqual({ cwd: b, sessionId: SID });
    expect(await collectClaudeSession(home, "no-such-session")).toBeNull();
  });

  it("refuses a session over the caps", async () => {
    const home = homeWithSession("/w");
    expect(await collectClaudeSession(home, SID, { maxBytes: 5 })).toBeNull();
    expect(await collectClaudeSession(home, SID, { maxFiles: 1 })).toBeNull();
  });

  it("never writes through a planted symlink, nor outside the session's project directory", async () => {
    const wt = "/w/7";
    const slug = claudeProjectSlug(wt);
    const file = (path: string) => ({ path, data: Buffer.from("x").toString("base64") });
    const outside = tmp();
    // A symlinked directory on the way.
    const home = tmp();
    mkdirSync(join(home, ".claude"));
    symlinkSync(outside, join(home, ".claude/projects"));
    await expect(
      restoreClaudeSession({
        home,
        files: [file(`.claude/projects/${slug}/${SID}.jsonl`)],
        savedWorktree: wt,
        worktree: wt,
      }),
    ).rejects.toThrow(/not a directory/);
    expect(existsSync(join(outside, slug))).toBe(false);
    // A symlink where the file goes.
    const home2 = tmp();
    mkdirSync(join(home2, ".claude/projects", slug), { recursive: true });
    const target = join(outside, "target");
    writeFileSync(target, "keep");
    symlinkSync(target, join(home2, ".claude/projects", slug, `${SID}.jsonl`));
    await expect(
      restoreClaudeSession({
        home: home2,
        files: [file(`.claude/projects/${slug}/${SID}.jsonl`)],
        savedWorktree: wt,
        worktree: wt,
      }),
    ).rejects.toThrow(/not a regular file/);
    expect(readFileSync(target, "utf8")).toBe("keep");
    expect(lstatSync(join(home2, ".claude/projects", slug, `${SID}.jsonl`)).isSymbolicLink()).toBe(true);
    // Paths outside the saved project directory, or escaping HOME.
    for (const path of [".bashrc", `.claude/projects/${slug}/../../../x`, `.claude/projects/other/${SID}.jsonl`])
      await expect(
        restoreClaudeSession({ home: tmp(), files: [file(path)], savedWorktree: wt, worktree: wt }),
      ).rejects.toThrow(/refused/);
  });
});
