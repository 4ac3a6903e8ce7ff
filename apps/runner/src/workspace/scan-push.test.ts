// What a push would publish is checked for the literal values of secrets forgehand holds (real git, bare origin).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedactor, type RepoRef } from "@forgehand/core";
import { runCommand } from "@forgehand/supervisor";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exec } from "../testing/exec";
import { createGitOrigin, type GitOrigin } from "./create-git-origin";
import { SecretInPushError, scanPush } from "./scan-push";
import { createWorkspaces, type PreparedWorkspace, type Workspaces } from "./workspaces";

const KEY = `foo-key-${randomBytes(16).toString("hex")}`;
const AGENT = ["-c", "user.name=agent", "-c", "user.email=agent@example.test", "-c", "core.hooksPath=/dev/null"];

let dir: string;
let origin: GitOrigin;
let repo: RepoRef;
let ws: Workspaces;
let prepared: PreparedWorkspace;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-scan-push-"));
  origin = await createGitOrigin(dir);
  repo = { forge: "gitea", fullName: "acme/widgets", owner: "acme", name: "widgets", cloneUrl: origin.path };
  // The process redactor as the runner builds it: FOO_API_KEY from an agent's env is one of its literals.
  const redactor = createRedactor([KEY]);
  ws = createWorkspaces({
    rootDir: join(dir, "data"),
    author: { name: "forgehand[bot]", email: "bot@forgehand.test" },
    branchPrefix: "forgehand",
    containsSecret: (text) => redactor.containsSecret(text),
  });
  prepared = await ws.prepare({ repo, issue: 7, title: "Add config", credentials: null });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const write = (file: string, content: string | Buffer) => writeFile(join(prepared.worktree, file), content);
/** A commit the agent makes itself (unsandboxed it can): its own message and author. */
const agentCommit = async (message: string) => {
  await exec(["git", ...AGENT, "add", "--all"], { cwd: prepared.worktree });
  await exec(["git", ...AGENT, "commit", "--quiet", "-m", message], { cwd: prepared.worktree });
};
const push = () => ws.push(prepared.worktree, prepared.branch, repo, null);
const pushed = async () => (await origin.git("branch", "--list")).includes("forgehand/");
async function refused(): Promise<SecretInPushError> {
  const error = await push().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretInPushError);
  expect(String((error as Error).message)).not.toContain(KEY);
  expect(await pushed()).toBe(false);
  return error as SecretInPushError;
}

describe("push secret scan", () => {
  it("refuses a file holding the key: nothing pushed, the reason names the file, never the value", async () => {
    await write("config.js", `export const key = "${KEY}";\n`);
    await ws.commitAll(prepared.worktree, "forgehand: develop for #7");
    const error = await refused();
    expect(error.reason).toMatch(/^file `config\.js` \(commit [0-9a-f]{12}\) holds the value of a secret/);
    // The commit stays in the worktree (unpublished), as a failed push leaves it.
    expect(await exec(["git", "log", "--format=%s", "-1"], { cwd: prepared.worktree })).toMatchObject({
      stdout: "forgehand: develop for #7",
    });
  });

  it("pushes a normal change, and token-shaped text that is no held secret", async () => {
    await write("greeting.txt", "hello\nconst fixture = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';\n");
    await ws.commitAll(prepared.worktree, "forgehand: develop for #7");
    await push();
    expect(await origin.git("show", `${prepared.branch}:greeting.txt`)).toContain("hello");
  });

  it("refuses the key in the agent's own commit message", async () => {
    await write("a.txt", "fine\n");
    await agentCommit(`use the key ${KEY}`);
    expect((await refused()).reason).toMatch(/^the message or author of commit [0-9a-f]{12} holds/);
  });

  it("refuses a key added and removed again: it is still in the pushed history", async () => {
    await write("leak.txt", `${KEY}\n`);
    await agentCommit("add");
    await write("leak.txt", "gone\n");
    await ws.commitAll(prepared.worktree, "forgehand: develop for #7");
    expect((await refused()).reason).toMatch(/^file `leak\.txt`/);
  });

  it("refuses the key base64-encoded in a binary file, and in a file name", async () => {
    await write(
      "blob.bin",
      Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(Buffer.from(KEY).toString("base64"))]),
    );
    await ws.commitAll(prepared.worktree, "bin");
    expect((await refused()).reason).toMatch(/^file `blob\.bin`/);

    await exec(["git", "reset", "--quiet", "--hard", prepared.startSha], { cwd: prepared.worktree });
    await write(`${KEY}.txt`, "x\n");
    await ws.commitAll(prepared.worktree, "name");
    expect((await refused()).reason).toMatch(/^a file name in commit/);
  });

  it("refuses a change too large to check (fail closed)", async () => {
    await write("big.txt", "x".repeat(4096));
    await ws.commitAll(prepared.worktree, "big");
    const git = async (args: string[], extra: { maxOutputBytes?: number } = {}) => {
      const r = await runCommand({
        argv: ["git", ...args],
        cwd: prepared.worktree,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        ...(extra.maxOutputBytes ? { maxBufferBytes: extra.maxOutputBytes } : {}),
      });
      return { stdout: r.stdout, exitCode: r.exitCode ?? 1, truncated: r.truncated };
    };
    await expect(scanPush(git, () => false, 1024)).rejects.toThrow(/too large to check for secrets/);
    await expect(scanPush(git, () => false, 1024 * 1024)).resolves.toBeUndefined();
  });
});
