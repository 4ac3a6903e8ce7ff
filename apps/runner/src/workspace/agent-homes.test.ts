import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IssueRef } from "@forgehand/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agentHomeDir } from "../sandbox-spec";
import { agentHomePath, listAgentHomes, removeAgentHome } from "./agent-homes";

let dir: string;
let homes: string;
let outside: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-agent-homes-"));
  homes = join(dir, "data", "agent-homes");
  outside = join(dir, "outside");
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, "precious.txt"), "keep me\n");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** A HOME as the agent leaves it: files, a nested dir, and links it planted to things outside. */
async function plantedHome(issue: number): Promise<string> {
  const home = agentHomePath(homes, { forge: "gitea", owner: "acme", name: "widgets", issue });
  await mkdir(join(home, ".claude", "projects"), { recursive: true });
  await writeFile(join(home, ".claude", "session.jsonl"), "{}\n");
  await symlink(join(outside, "precious.txt"), join(home, "link-to-file"));
  await symlink(outside, join(home, ".claude", "link-to-dir"));
  return home;
}

describe("agent HOMEs", () => {
  it("names the HOME where the sandbox puts it", () => {
    const ref = { repo: { forge: "gitea", owner: "acme", name: "widgets", fullName: "acme/widgets" }, number: 7 };
    expect(agentHomePath(homes, { forge: "gitea", owner: "acme", name: "widgets", issue: 7 })).toBe(
      agentHomeDir(join(dir, "data"), ref as IssueRef),
    );
  });

  it("removes a HOME with planted symlinks, and nothing they point at", async () => {
    const home = await plantedHome(7);
    expect(await removeAgentHome(homes, home)).toBe(true);
    expect(await exists(home)).toBe(false);
    expect(await readFile(join(outside, "precious.txt"), "utf8")).toBe("keep me\n");
    expect(await exists(outside)).toBe(true);
    expect(await removeAgentHome(homes, home)).toBe(false);
  });

  it("removes a HOME that is itself a symlink as a link, never its target", async () => {
    const home = agentHomePath(homes, { forge: "gitea", owner: "acme", name: "widgets", issue: 8 });
    await mkdir(join(home, ".."), { recursive: true });
    await symlink(outside, home);
    expect(await removeAgentHome(homes, home)).toBe(true);
    expect(await exists(home)).toBe(false);
    expect(await readFile(join(outside, "precious.txt"), "utf8")).toBe("keep me\n");
  });

  it("refuses a path whose parent is a symlink, and paths that are not a HOME", async () => {
    // `<homes>/gitea/acme/widgets` → outside: `…/widgets/1` would be `outside/1`.
    await mkdir(join(homes, "gitea", "acme"), { recursive: true });
    await symlink(outside, join(homes, "gitea", "acme", "widgets"));
    await mkdir(join(outside, "1"));
    await writeFile(join(outside, "1", "victim.txt"), "x");
    await expect(removeAgentHome(homes, join(homes, "gitea", "acme", "widgets", "1"))).rejects.toThrow(/symlink/);
    expect(await exists(join(outside, "1", "victim.txt"))).toBe(true);
    // Nor is a linked repo dir listed.
    expect(await listAgentHomes(homes)).toEqual([]);
    for (const bad of [join(homes, "gitea", "acme"), join(homes, "..", "x", "a", "b", "1"), join(homes, "a/b/c/x")])
      await expect(removeAgentHome(homes, bad)).rejects.toThrow(/Not an agent HOME/);
  });

  it("removes a HOME whose dirs the agent made unreadable", async () => {
    const home = await plantedHome(9);
    await chmod(join(home, ".claude"), 0o000);
    expect(await removeAgentHome(homes, home)).toBe(true);
    expect(await exists(home)).toBe(false);
  });

  it("lists HOMEs by issue, skipping other entries", async () => {
    await plantedHome(3);
    await plantedHome(12);
    await mkdir(join(homes, "gitea", "acme", "widgets", "not-an-issue"));
    const listed = await listAgentHomes(homes);
    expect(listed.map((h) => [h.forge, h.owner, h.name, h.issue])).toEqual([
      ["gitea", "acme", "widgets", 3],
      ["gitea", "acme", "widgets", 12],
    ]);
    expect(listed[0]!.changedMs).toBeLessThanOrEqual(Date.now());
  });
});
