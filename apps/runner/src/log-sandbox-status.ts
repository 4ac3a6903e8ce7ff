import type { Config, Logger } from "@forgehand/core";
import { detectSandboxSupport } from "@forgehand/supervisor";

/**
 * The startup log's sandbox lines: a warning naming every agent with `sandbox: { enabled: false }` ("⚠ unsandboxed"),
 * and whether the sandboxed ones can run here (an error when not: their runs fail closed).
 */
export async function logSandboxStatus(config: Config, logger: Logger): Promise<void> {
  const agents = Object.entries(config.agents);
  const off = agents.filter(([, a]) => !a.sandbox.enabled).map(([name]) => name);
  if (off.length > 0) {
    logger.warn(`⚠ unsandboxed: agents ${off.join(", ")} run as the runner (sandbox.enabled: false)`, { agents: off });
  }
  if (off.length === agents.length) return;
  const support = await detectSandboxSupport().catch((error: unknown) => ({
    ok: false,
    problems: [String(error)],
    warnings: [] as string[],
    identity: undefined,
    cgroup: { available: false, reason: "not checked", controllers: [] as string[] },
    bwrap: undefined,
  }));
  if (!support.ok) {
    logger.error("sandbox unavailable: sandboxed agents' runs will fail (fail closed)", { problems: support.problems });
    return;
  }
  logger.info("sandbox ready", {
    bwrap: support.bwrap?.version,
    agentUid: support.identity?.uid,
    agentUser: support.identity?.user,
    cgroup: support.cgroup.available ? support.cgroup.reason : `unavailable: ${support.cgroup.reason}`,
    ...(support.warnings.length ? { warnings: support.warnings } : {}),
  });
}
