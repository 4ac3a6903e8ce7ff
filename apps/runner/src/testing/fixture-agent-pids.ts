import { readdirSync, readFileSync } from "node:fs";

/**
 * Host pids of the live fixture agents whose env names `FIXTURE_LOG=<log>`. Sandboxed, an agent sees (and logs)
 * only its pid inside the sandbox's pid namespace; what the test must check is the host process.
 */
export function fixtureAgentPids(log: string): number[] {
  const needle = `FIXTURE_LOG=${log}\0`;
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, "utf8");
      if (!environ.startsWith(needle) && !environ.includes(`\0${needle}`)) continue;
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${name}/status`, "utf8"))?.[1];
      if (state !== "Z" && state !== "X") out.push(Number(name));
    } catch {}
  }
  return out;
}

/** Whether any of `pids` still runs (a zombie counts as gone). */
export function anyAlive(pids: readonly number[]): boolean {
  return pids.some((pid) => {
    try {
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      return state !== "Z" && state !== "X";
    } catch {
      return false;
    }
  });
}
