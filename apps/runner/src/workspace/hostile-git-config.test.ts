import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type RepoRef } from "@forgehand/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exec } from "../testing/exec";
import { createGitOrigin, type GitOrigin } from "./create-git-origin";
import { MIRROR_CONFIG } from "./mirror-config";
import { createWorkspaces, type Workspaces } from "./workspaces";

/**
 * What an agent that could write the mirror, the worktree's `.git` or the runner's HOME does to steer the
 * runner's own git afterwards: each test plants one such thing and checks that the runner's git obeys none.
 */

let dir: string;
let origin: GitOrigin;
let repo: RepoRef;
let ws: Workspaces;
let mirror: string;
let marker: string;
let evilScript: string;
let logLines: string[];

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-hostile-"));
  origin = await createGitOrigin(dir);
  repo = { forge: "gitea", fullName: "acme/widgets", owner: "acme", name: "widgets", cloneUrl: origin.path };
  logLines = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => logLines.push(l) });
  ws = createWorkspaces({
    rootDir: join(dir, "data"),
    logger,
    author: { name: "b", email: "b@x" },
    branchPrefix: "fh",
  });
  mirror = join(dir, "data", "mirrors", "gitea", "acme", "widgets.git");
  marker = join(dir, "evil-ran");
  // What a planted filter/fsmonitor/ssh command would run: it records that it ran, with its environment.
  evilScript = join(dir, "evil.sh");
  await writeFile(evilScript, `#!/bin/sh\necho "ran $0 $*" >> ${marker}\nenv >> ${marker}\ncat\n`, { mode: 0o755 });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A bare repository the agent controls, holding what the origin has plus its own commit on main. */
async function evilRemote(): Promise<string> {
  const evil = join(dir, "evil.git");
  await exec(["git", "clone", "--quiet", "--bare", origin.path, evil]);
  return evil;
}

describe("the runner's git ignores config an agent planted", () => {
  it("runs no filter, fsmonitor or sshCommand from the mirror config on `git add`", async () => {
    const w = await ws.prepare({ repo, issue: 1, title: "filter", credentials: null });
    const config = await readFile(join(mirror, "config"), "utf8");
    await writeFile(
      join(mirror, "config"),
      `${config}[filter "evil"]\n\tclean = ${evilScript}\n\tsmudge = ${evilScript}\n\trequired = true\n` +
        `[core]\n\tfsmonitor = ${evilScript}\n\tsshCommand = ${evilScript}\n[diff "evil"]\n\ttextconv = ${evilScript}\n`,
    );
    await writeFile(join(w.worktree, ".gitattributes"), "* filter=evil diff=evil\n");
    await writeFile(join(w.worktree, "secret.txt"), "plain text\n");
    const commit = await ws.commitAll(w.worktree, "with attributes");
    expect(commit.committed).toBe(true);
    expect(await exists(marker)).toBe(false);
    expect(await exec(["git", "--git-dir", mirror, "show", `${commit.sha}:secret.txt`])).toMatchObject({
      stdout: "plain text",
    });
    // The planted keys are gone again, and the log names them.
    expect(await readFile(join(mirror, "config"), "utf8")).toBe(MIRROR_CONFIG);
    expect(logLines.join("\n")).toMatch(/mirror config has keys forgehand did not write.*filter\.evil\.clean/);
  });

  it("fetches from and pushes to the real origin despite url.*.insteadOf / pushInsteadOf in the mirror", async () => {
    const w = await ws.prepare({ repo, issue: 2, title: "insteadof", credentials: null });
    const evil = await evilRemote();
    const config = await readFile(join(mirror, "config"), "utf8");
    await writeFile(
      join(mirror, "config"),
      `${config}[url "${evil}"]\n\tinsteadOf = ${origin.path}\n\tpushInsteadOf = ${origin.path}\n`,
    );
    const newSha = await origin.commit({ "new.txt": "only on the real origin\n" }, "new on origin");
    const again = await ws.prepare({ repo, issue: 2, title: "insteadof", credentials: null });
    expect(again.baseSha).toBe(newSha);
    await writeFile(join(w.worktree, "pushed.txt"), "x\n");
    await writeFile(
      join(mirror, "config"),
      `${MIRROR_CONFIG}[url "${evil}"]\n\tinsteadOf = ${origin.path}\n\tpushInsteadOf = ${origin.path}\n`,
    );
    await ws.commitAll(w.worktree, "push me");
    await ws.push(w.worktree, again.branch, repo, null);
    expect(await origin.git("rev-parse", `refs/heads/${again.branch}`)).toMatch(/^[0-9a-f]{40}$/);
    const onEvil = await exec(
      ["git", "--git-dir", evil, "rev-parse", "--verify", "--quiet", `refs/heads/${again.branch}`],
      {
        reject: false,
      },
    );
    expect(onEvil.exitCode).not.toBe(0);
  });

  it("ignores the runner's ~/.gitconfig and XDG config (an insteadOf there)", async () => {
    const evil = await evilRemote();
    const home = join(dir, "runner-home");
    await mkdir(join(home, ".config", "git"), { recursive: true });
    const planted = `[url "${evil}"]\n\tinsteadOf = ${origin.path}\n[core]\n\tfsmonitor = ${evilScript}\n`;
    await writeFile(join(home, ".gitconfig"), planted);
    await writeFile(join(home, ".config", "git", "config"), planted);
    await writeFile(join(home, ".config", "git", "attributes"), "* filter=evil\n");
    const newSha = await origin.commit({ "new.txt": "real\n" }, "new on origin");
    const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
    process.env.HOME = home;
    process.env.XDG_CONFIG_HOME = join(home, ".config");
    try {
      const w = await ws.prepare({ repo, issue: 3, title: "home", credentials: null });
      expect(w.baseSha).toBe(newSha);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(await exists(marker)).toBe(false);
  });

  it("commits and pushes through the real git dir when the worktree's .git points at the agent's", async () => {
    const w = await ws.prepare({ repo, issue: 4, title: "gitfile", credentials: null });
    const attacker = join(dir, "attacker");
    await exec(["git", "init", "--quiet", attacker]);
    await mkdir(join(attacker, ".git", "hooks"), { recursive: true });
    for (const hook of ["pre-commit", "post-commit", "pre-push"]) {
      await writeFile(join(attacker, ".git", "hooks", hook), `#!/bin/sh\n${evilScript} ${hook}\n`, { mode: 0o755 });
    }
    const attackerConfig = await readFile(join(attacker, ".git", "config"), "utf8");
    await writeFile(
      join(attacker, ".git", "config"),
      `${attackerConfig}[filter "evil"]\n\tclean = ${evilScript}\n[core]\n\tfsmonitor = ${evilScript}\n\thooksPath = ${join(attacker, ".git", "hooks")}\n`,
    );
    await writeFile(join(w.worktree, ".git"), `gitdir: ${join(attacker, ".git")}\n`);
    await writeFile(join(w.worktree, ".gitattributes"), "* filter=evil\n");
    await writeFile(join(w.worktree, "work.txt"), "the agent's work\n");
    const commit = await ws.commitAll(w.worktree, "work");
    expect(commit.committed).toBe(true);
    await ws.push(w.worktree, w.branch, repo, null);
    expect(await exists(marker)).toBe(false);
    expect((await exec(["git", "--git-dir", mirror, "cat-file", "-t", commit.sha ?? "none"])).stdout).toBe("commit");
    expect(await origin.git("show", `refs/heads/${w.branch}:work.txt`)).toBe("the agent's work");
    // The next prepare puts the link back, so the next agent's own git is not steered either.
    await ws.prepare({ repo, issue: 4, title: "gitfile", credentials: null });
    expect(await readFile(join(w.worktree, ".git"), "utf8")).toBe(`gitdir: ${join(mirror, "worktrees", "4")}\n`);
  });

  it("keeps the mirror config exactly forgehand's through a normal prepare, commit and push", async () => {
    const w = await ws.prepare({ repo, issue: 5, title: "clean", credentials: null });
    await writeFile(join(w.worktree, "a.txt"), "a\n");
    await ws.commitAll(w.worktree, "a");
    await ws.push(w.worktree, w.branch, repo, null);
    await ws.prepare({ repo, issue: 5, title: "clean", credentials: null });
    await ws.remove(w.worktree);
    expect(await readFile(join(mirror, "config"), "utf8")).toBe(MIRROR_CONFIG);
    expect(logLines.join("\n")).not.toContain("did not write");
  });
});

describe("the environment of the runner's git", () => {
  it("holds none of the runner's secrets, an empty private HOME and no global/system config", async () => {
    const secrets: Record<string, string> = {
      GITHUB_TOKEN: "ghp_runnerSecretToken0123456789abcdefABCD",
      GITEA_TOKEN: "gitea-secret-token-0123456789",
      GITHUB_WEBHOOK_SECRET: "webhook-secret-value-42",
      FORGEHAND_API_TOKEN: "forgehand-api-token-value-42",
      REDIS_URL: "redis://:redis-password-42@127.0.0.1:6379",
      ANTHROPIC_API_KEY: "sk-ant-runner-key-42",
    };
    const saved: Record<string, string | undefined> = {};
    // GIT_SSH_COMMAND is the operator's transport setting, passed on: with an ssh:// URL git runs it, and it
    // dumps the environment it got.
    const sshScript = join(dir, "ssh.sh");
    await writeFile(sshScript, `#!/bin/sh\necho "ran $0 $*" >> ${marker}\nenv >> ${marker}\nexit 1\n`, { mode: 0o755 });
    for (const [k, v] of Object.entries({ ...secrets, GIT_SSH_COMMAND: sshScript, XDG_CONFIG_HOME: dir })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    try {
      const sshRepo = { ...repo, cloneUrl: "ssh://git.invalid/acme/widgets.git" };
      await expect(ws.prepare({ repo: sshRepo, issue: 6, title: "env", credentials: null })).rejects.toThrow(
        /git fetch/,
      );
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const dumped = await readFile(marker, "utf8");
    expect(dumped).toContain("git-upload-pack");
    for (const value of Object.values(secrets)) expect(dumped).not.toContain(value);
    const env = new Map(
      dumped
        .split("\n")
        .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(env.get("HOME")).toBe(join(dir, "data", "git-home"));
    expect(env.get("GIT_CONFIG_GLOBAL")).toBe("/dev/null");
    expect(env.get("GIT_CONFIG_NOSYSTEM")).toBe("1");
    expect(env.has("XDG_CONFIG_HOME")).toBe(false);
    expect((await stat(join(dir, "data", "git-home"))).mode & 0o777).toBe(0o700);
  });
});
