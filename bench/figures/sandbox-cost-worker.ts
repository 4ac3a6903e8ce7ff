// Child entry for figure 2's breakdown: where the sandbox's own dispatch cost goes, measured on the real parts
// (createSandbox on a fresh git worktree of a mirror, real bwrap, cgroup, proxy) without webhook or queue.
// Per iteration, in alternating order: spawn → agent process created for the agent spawned directly (no sandbox),
// under bwrap alone (the sandbox's argv cut before its init), with the fast init (perl; the default) and with
// the node init; plus prepare() (per step) and cleanup(). Prints one JSON line with every sample.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createSandbox } from "@forgehand/supervisor";
import { report } from "../harness/child";
import { FIXTURES } from "./bench-config";
import { createBareOrigin } from "./git-origin";

const [itersArg = "3", dir = "/tmp", variantsArg = "direct,bwrap,fast,node"] = process.argv.slice(2);
const iterations = Number(itersArg);
const fixture = join(FIXTURES, "report-start.mjs");
const outDir = join(dir, "out");
mkdirSync(outDir, { recursive: true });
if (process.getuid?.() === 0) chmodSync(outDir, 0o777);
const origin = createBareOrigin(dir);
const mirror = join(dir, "mirror.git");
execFileSync("git", ["clone", "-q", "--mirror", origin, mirror]);

let n = 0;
/** Spawns argv, resolves with (fixture's timeOrigin − Date.now() just before spawn) once it exited. */
async function createdAfter(argv: string[], env: Record<string, string>, cwd: string, file: string): Promise<number> {
  const t0 = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise((resolve) => child.on("close", resolve));
  for (let i = 0; !existsSync(file) && i < 100; i++) await sleep(5);
  if (!existsSync(file))
    throw new Error(`[bench] ${argv.slice(-3).join(" ")} exited ${code} without a start file: ${stderr}`);
  return (JSON.parse(readFileSync(file, "utf8")) as { startedAt: number }).startedAt - t0;
}

type Variant = "direct" | "bwrap" | "fast" | "node";
const samples: Record<string, number[]> = {};
const push = (k: string, v: number | undefined) => {
  if (v === undefined) return;
  samples[k] ??= [];
  samples[k].push(v);
};
const variants = variantsArg.split(",") as Variant[];
for (let i = 0; i < iterations; i++) {
  // Rotate the order so no variant always runs right after another.
  const order = variants.map((_, j) => variants[(i + j) % variants.length]!);
  for (const variant of order) {
    const wt = join(dir, `wt-${++n}`);
    execFileSync("git", ["-C", mirror, "worktree", "add", "-q", "--detach", wt, "HEAD"]);
    const file = join(outDir, `${n}.start`);
    const command = [process.execPath, fixture, file];
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    if (variant === "direct") {
      push("direct", await createdAfter(command, env, wt, file));
      continue;
    }
    const t0 = performance.now();
    const sb = createSandbox({
      worktree: wt,
      command,
      env,
      writable: [outDir],
      allow: ["api.anthropic.com:443"],
      init: variant === "node" ? "node" : "fast",
      cgroup: { name: `bench-cost-${process.pid}-${n}` },
    });
    await sb.prepare();
    push("prepare", performance.now() - t0);
    push("prepare.dirs", sb.timings.dirsMs);
    push("prepare.home", sb.timings.homeMs);
    push("prepare.proxy", sb.timings.proxyMs);
    push("prepare.cgroup", sb.timings.cgroupMs);
    push("prepare.chown", sb.worktreeChown?.ms);
    let argv = sb.argv;
    if (variant === "bwrap") {
      // bwrap (and the cgroup's sh) with every mount and namespace, but the fixture in place of the init.
      const chdir = argv.indexOf("--chdir");
      argv = [...argv.slice(0, chdir + 3), ...command];
    }
    push(variant, await createdAfter(argv, sb.spawnEnv, wt, file));
    const c0 = performance.now();
    await sb.cleanup();
    push("cleanup", performance.now() - c0);
  }
}
report({ samples });
process.exit(0);
