import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    stdio: "pipe",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "bench",
      GIT_AUTHOR_EMAIL: "bench@example.test",
      GIT_COMMITTER_NAME: "bench",
      GIT_COMMITTER_EMAIL: "bench@example.test",
    },
  });

/**
 * A bare origin repository in `dir` with a small project (`files` files over a few commits) on
 * `main`, standing in for the forge's git remote. Returns its path, usable as a clone URL.
 */
export function createBareOrigin(dir: string, files = 60): string {
  const bare = join(dir, "origin.git");
  const work = join(dir, "origin-work");
  mkdirSync(work, { recursive: true });
  git(dir, "init", "-q", "--bare", "-b", "main", bare);
  git(work, "init", "-q", "-b", "main");
  for (let c = 0; c < 3; c++) {
    for (let i = c; i < files; i += 3) {
      mkdirSync(join(work, "src", `mod-${i % 6}`), { recursive: true });
      writeFileSync(
        join(work, "src", `mod-${i % 6}`, `file-${i}.ts`),
        `// commit ${c}\nexport const value${i} = ${i * c};\n`.repeat(20),
      );
    }
    writeFileSync(join(work, "README.md"), `# bench repo\n\nrevision ${c}\n`);
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", `revision ${c}`);
  }
  git(work, "push", "-q", bare, "main");
  return bare;
}
