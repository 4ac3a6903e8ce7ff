import type { LoadedConfig } from "@forgehand/core";
import { detectSandboxSupport, type SandboxSupport } from "@forgehand/supervisor";
import type { CheckResult } from "./doctor-checks";

/**
 * The sandbox lines of `doctor`: for each distinct agent identity, whether bwrap can make the sandbox (✗ when an
 * enabled agent cannot be sandboxed: its runs would fail closed); the per-run cgroup; and a ⚠ line for every agent
 * that runs with `sandbox: { enabled: false }`.
 */
export async function checkSandbox(
  loaded: LoadedConfig,
  detect: (o: { configuredUser?: string | number }) => Promise<SandboxSupport> = detectSandboxSupport,
): Promise<CheckResult[]> {
  const agents = Object.entries(loaded.config.agents);
  const results: CheckResult[] = [];
  for (const [name, agent] of agents) {
    if (agent.sandbox.enabled) continue;
    results.push({
      name: `sandbox ${name}`,
      status: "skip",
      detail: `⚠ unsandboxed: agent ${name} has sandbox.enabled: false (it runs as the runner, with its files and network)`,
    });
  }
  const enabled = agents.filter(([, a]) => a.sandbox.enabled);
  if (enabled.length === 0) {
    results.push({ name: "sandbox", status: "skip", detail: "⚠ unsandboxed: no agent runs in the sandbox" });
    return results;
  }
  const byUser = new Map<string, string[]>();
  for (const [name, agent] of enabled) {
    const key = agent.sandbox.user === undefined ? "" : String(agent.sandbox.user);
    byUser.set(key, [...(byUser.get(key) ?? []), name]);
  }
  let cgroupLine: CheckResult | undefined;
  for (const [user, names] of byUser) {
    const support = await detect(user === "" ? {} : { configuredUser: /^\d+$/.test(user) ? Number(user) : user });
    const label = byUser.size === 1 ? "sandbox" : `sandbox ${names.join(",")}`;
    if (!support.ok) {
      results.push({
        name: label,
        status: "fail",
        detail: `agents ${names.join(", ")} cannot run: ${support.problems.join("; ")}`,
      });
    } else {
      const id = support.identity;
      const who = id ? `${id.user ?? "uid"} (uid ${id.uid}${id.runnerIsRoot ? "" : ", in a user namespace"})` : "?";
      const warn = support.warnings.filter((w) => !w.startsWith("no per-run cgroup"));
      results.push({
        name: label,
        status: "ok",
        detail: `${support.bwrap?.version ?? "bwrap"} at ${support.bwrap?.path}; agents run as ${who}${warn.length ? `; ${warn.join("; ")}` : ""}`,
      });
    }
    const c = support.cgroup;
    cgroupLine ??= c.available
      ? {
          name: "sandbox cgroup",
          status: "ok",
          detail: c.reason === "ok" ? `per-run cgroups under ${c.parent}` : c.reason,
        }
      : {
          name: "sandbox cgroup",
          status: "skip",
          detail: `no per-run cgroup: ${c.reason} (the kill relies on the pid namespace and the process scan; no memory/pids limits)`,
        };
  }
  if (cgroupLine) results.push(cgroupLine);
  return results;
}
