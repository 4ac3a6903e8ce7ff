import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isAlive, killAll, waitFor } from "../test-support";
import { createRunCgroup, detectCgroupSupport, ownCgroup2Path, parseCgroup2Mounts } from "./run-cgroup";

describe("cgroup detection (pure)", () => {
  it("finds cgroup2 mounts in mountinfo and our own v2 path", () => {
    const mountinfo = [
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
      "22 1 0:21 / /proc rw - proc proc rw",
    ].join("\n");
    expect(parseCgroup2Mounts(mountinfo)).toEqual(["/sys/fs/cgroup/unified"]);
    expect(ownCgroup2Path("4:memory:/x\n0::/system.slice/forgehand.service\n")).toBe("/system.slice/forgehand.service");
    expect(ownCgroup2Path("4:memory:/x\n")).toBeUndefined();
  });
});

const spawnArgv = (argv: string[], cwd: string) => spawn(argv[0]!, argv.slice(1), { cwd, stdio: "ignore" });

const readText = (p: string) => {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return "";
  }
};

const support = await detectCgroupSupport();
if (!support.available) console.warn(`[test] SKIPPING run-cgroup tests: ${support.reason}`);

describe.skipIf(!support.available && process.env.CI !== "true")("createRunCgroup (real cgroup v2)", () => {
  const dir = mkdtempSync(join(tmpdir(), "fh-cg-"));
  const leaked: number[] = [];
  afterAll(() => {
    killAll(leaked);
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports what it can do", () => {
    expect(support.available).toBe(true);
    expect(support.parent).toMatch(/\/forgehand$/);
  });

  it("a setsid -f escapee with cwd /tmp is dead after kill(), and cgroup.procs is empty", async () => {
    const cg = await createRunCgroup({ name: `test-${process.pid}-escapee` });
    try {
      const pidFile = join(dir, "escapee.pid");
      const child = spawnArgv(
        cg.wrap(["/bin/sh", "-c", `setsid -f sh -c 'echo $$ > ${pidFile}; exec sleep 1000'; sleep 1000`]),
        "/tmp",
      );
      await waitFor(() => readText(pidFile) !== "", 5000, "the escapee");
      const escapee = Number(readFileSync(pidFile, "utf8").trim());
      leaked.push(escapee, child.pid!);
      expect(isAlive(escapee)).toBe(true);
      // The escapee left the session and the process group, but not the cgroup.
      expect(readFileSync(`/proc/${escapee}/cgroup`, "utf8")).toContain(cg.path.split("/").slice(-2).join("/"));
      expect(await cg.procs()).toEqual(expect.arrayContaining([escapee, child.pid!]));
      const result = await cg.kill();
      expect(result).toEqual({ empty: true, remaining: [] });
      expect(isAlive(escapee)).toBe(false);
      expect(await cg.procs()).toEqual([]);
    } finally {
      await cg.remove();
    }
  });

  it("limits: applied when the controller is delegated, reported unavailable otherwise", async () => {
    const cg = await createRunCgroup({ name: `test-${process.pid}-limits`, memoryMax: 256 * 1024 * 1024, pidsMax: 64 });
    try {
      for (const [controller, key, file, value] of [
        ["memory", "memoryMax", "memory.max", 256 * 1024 * 1024],
        ["pids", "pidsMax", "pids.max", 64],
      ] as const) {
        if (support.controllers.includes(controller)) {
          expect(cg.limits[key]).toBe(value);
          expect(readFileSync(join(cg.path, file), "utf8").trim()).toBe(String(value));
        } else {
          expect(cg.limits[key]).toMatch(/unavailable/);
        }
      }
    } finally {
      await cg.remove();
    }
  });

  it("remove() kills what is left and deletes the cgroup", async () => {
    const cg = await createRunCgroup({ name: `test-${process.pid}-remove` });
    const child = spawnArgv(cg.wrap(["sleep", "1000"]), "/tmp");
    leaked.push(child.pid!);
    await waitFor(() => readFileSync(join(cg.path, "cgroup.procs"), "utf8").includes(String(child.pid)), 5000);
    await cg.remove();
    expect(isAlive(child.pid!)).toBe(false);
    expect(() => readFileSync(join(cg.path, "cgroup.procs"))).toThrow(/ENOENT/);
  });

  it("refuses names that would leave the parent", async () => {
    await expect(createRunCgroup({ name: "../x" })).rejects.toThrow(/cgroup name/);
  });
});
