import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../testing/exec";
import { withMirrorLock } from "./mirror-lock";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-lock-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("withMirrorLock", () => {
  it("runs holders of one lock one at a time, in arrival order", async () => {
    const lock = join(dir, "a.lock");
    const events: string[] = [];
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      [1, 2, 3, 4].map((n) =>
        withMirrorLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          events.push(`start ${n}`);
          await sleep(30);
          events.push(`end ${n}`);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(events).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3", "start 4", "end 4"]);
  });

  it("lets different locks run side by side and releases after a throw", async () => {
    let overlapped = false;
    let inA = false;
    await Promise.all([
      withMirrorLock(join(dir, "b.lock"), async () => {
        inA = true;
        await sleep(200);
        inA = false;
      }),
      withMirrorLock(join(dir, "c.lock"), async () => {
        await sleep(50);
        overlapped = inA;
      }),
    ]);
    expect(overlapped).toBe(true);
    await expect(withMirrorLock(join(dir, "b.lock"), async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    // The file lock really was released: another process can take it at once.
    expect((await exec(["flock", "--nonblock", join(dir, "b.lock"), "true"], { reject: false })).exitCode).toBe(0);
    expect(await withMirrorLock(join(dir, "b.lock"), async () => "again")).toBe("again");
  });

  it("holds the file lock against other processes while inside, and times out clearly", async () => {
    const lock = join(dir, "d.lock");
    await withMirrorLock(lock, async () => {
      const probe = await exec(["flock", "--nonblock", lock, "true"], { reject: false });
      expect(probe.exitCode).not.toBe(0);
    });
    const holder = spawn("flock", ["--exclusive", lock, "sleep", "5"], { stdio: "ignore", detached: true });
    const exited = new Promise((r) => holder.once("exit", r));
    try {
      for (let i = 0; i < 100; i++) {
        if ((await exec(["flock", "--nonblock", lock, "true"], { reject: false })).exitCode !== 0) break;
        await sleep(20);
      }
      await expect(withMirrorLock(lock, async () => "never", 1_000)).rejects.toThrow(
        /\[workspace\] Could not lock `.*d\.lock` within 1000 ms/,
      );
    } finally {
      process.kill(-(holder.pid as number), "SIGKILL"); // the group: flock and its sleep
      await exited;
    }
  });
});
