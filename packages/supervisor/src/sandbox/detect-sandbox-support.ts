import { spawnSync } from "node:child_process";
import { type AgentIdentity, resolveAgentIdentity } from "./agent-identity";
import { findBwrap } from "./create-sandbox";
import { type CgroupSupport, detectCgroupSupport } from "./run-cgroup";

/** The sandbox check of `doctor` (and the runner's startup log). */
export interface SandboxSupport {
  /** Agents can be sandboxed here (bwrap present and able to make its namespaces). */
  ok: boolean;
  bwrap?: { path: string; version: string };
  /** Why not (`ok: false`), in words an operator can act on. */
  problems: string[];
  identity?: AgentIdentity;
  /** The agent user is `nobody` (works; `forgehand-agent` is better — nothing else on the host runs as it). */
  warnings: string[];
  cgroup: CgroupSupport;
}

/**
 * Checks: bwrap installed; it can create the namespaces the sandbox uses, as the runner will spawn it (root:
 * as root; otherwise a user namespace); the agent identity; per-run cgroups. Spawns bwrap once (~10 ms).
 */
export async function detectSandboxSupport(
  options: { configuredUser?: string | number } = {},
): Promise<SandboxSupport> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const cgroup = await detectCgroupSupport();
  if (!cgroup.available) warnings.push(`no per-run cgroup: ${cgroup.reason} (the kill falls back to the process scan)`);
  else if (cgroup.reason !== "ok") warnings.push(cgroup.reason);
  let identity: AgentIdentity | undefined;
  try {
    identity = resolveAgentIdentity({ configuredUser: options.configuredUser });
    if (identity.source === "nobody") {
      warnings.push("agents run as nobody (65534): create the forgehand-agent user (node scripts/prereqs.mjs)");
    }
  } catch (error) {
    problems.push((error as Error).message);
  }
  const path = findBwrap();
  if (!path) {
    problems.push("bubblewrap (bwrap) is not installed: node scripts/prereqs.mjs, or apt-get install bubblewrap");
    return { ok: false, problems, warnings, identity, cgroup };
  }
  const version = spawnSync(path, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
  const root = process.getuid?.() === 0;
  const probe = spawnSync(
    path,
    [
      ...(root ? [] : ["--unshare-user"]),
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-net",
      "--die-with-parent",
      "--ro-bind",
      "/",
      "/",
      "--proc",
      "/proc",
      "--",
      "true",
    ],
    { encoding: "utf8", timeout: 10_000, env: { PATH: "/usr/bin:/bin" } },
  );
  if (probe.status !== 0) {
    const why = (probe.stderr || probe.error?.message || `exit ${probe.status}`).trim();
    problems.push(
      `bwrap cannot create its namespaces here (${why}). ` +
        (root
          ? "Inside a container, allow it (see the Docker section of the README: a seccomp profile permitting " +
            "unshare/clone with namespaces, or --security-opt seccomp=unconfined plus --cap-add SYS_ADMIN)."
          : "Unprivileged user namespaces are disabled: sysctl kernel.unprivileged_userns_clone=1 / " +
            "user.max_user_namespaces > 0, or an AppArmor profile for bwrap (Ubuntu 24.04)."),
    );
  }
  return { ok: problems.length === 0, bwrap: { path, version }, problems, warnings, identity, cgroup };
}
