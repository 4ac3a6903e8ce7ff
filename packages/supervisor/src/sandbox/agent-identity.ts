import { readFileSync } from "node:fs";

/** The default agent user that `scripts/prereqs.mjs` creates on a root install. */
export const DEFAULT_AGENT_USER = "forgehand-agent";
/** `nobody`/`nogroup` on Debian: the fallback agent identity of a root runner. */
export const NOBODY_ID = 65534;

/** Who the agent runs as. */
export interface AgentIdentity {
  uid: number;
  gid: number;
  /** User name when known (`forgehand-agent`, `nobody`, the runner's own). */
  user?: string;
  /** The runner is root: bwrap mounts as root and the init drops to `uid`/`gid`. Otherwise a user namespace
   *  maps the agent to the runner's own ids. */
  runnerIsRoot: boolean;
  /** How it was chosen, for `doctor` and the run log. */
  source: "configured" | "forgehand-agent" | "nobody" | "runner";
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Entries of an /etc/passwd text. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

export interface ResolveAgentIdentityOptions {
  /** `sandbox.user`: a user name or numeric uid (root runner only). */
  configuredUser?: string | number;
  /** @defaultValue the contents of /etc/passwd */
  passwd?: string;
  /** @defaultValue process.getuid() */
  runnerUid?: number;
  /** @defaultValue process.getgid() */
  runnerGid?: number;
}

/**
 * The agent identity. Root runner: the configured user (must exist, must not be root), else `forgehand-agent`
 * when /etc/passwd has it, else 65534/65534. Non-root runner: its own ids (it cannot switch; a configured user
 * other than itself is an error, so nobody believes the agent runs as someone it does not).
 */
export function resolveAgentIdentity(options: ResolveAgentIdentityOptions = {}): AgentIdentity {
  const runnerUid = options.runnerUid ?? process.getuid?.() ?? -1;
  const runnerGid = options.runnerGid ?? process.getgid?.() ?? -1;
  const passwd = parsePasswd(options.passwd ?? readPasswd());
  const find = (u: string | number) =>
    typeof u === "number" || /^\d+$/.test(u)
      ? (passwd.find((e) => e.uid === Number(u)) ?? { name: undefined, uid: Number(u), gid: Number(u) })
      : passwd.find((e) => e.name === u);
  if (runnerUid !== 0) {
    if (options.configuredUser !== undefined) {
      const want = find(options.configuredUser);
      if (!want || want.uid !== runnerUid) {
        throw new TypeError(
          `[sandbox] sandbox.user \`${options.configuredUser}\` needs a root runner; this runner is uid ${runnerUid} ` +
            "and runs agents as itself (in a user namespace)",
        );
      }
    }
    const self = passwd.find((e) => e.uid === runnerUid);
    return { uid: runnerUid, gid: runnerGid, user: self?.name, runnerIsRoot: false, source: "runner" };
  }
  if (options.configuredUser !== undefined) {
    const want = find(options.configuredUser);
    if (!want)
      throw new TypeError(`[sandbox] sandbox.user \`${options.configuredUser}\` does not exist in /etc/passwd`);
    if (want.uid === 0 || want.gid === 0) {
      throw new TypeError(`[sandbox] sandbox.user \`${options.configuredUser}\` is root: agents never run as root`);
    }
    return { uid: want.uid, gid: want.gid, user: want.name, runnerIsRoot: true, source: "configured" };
  }
  const agent = passwd.find((e) => e.name === DEFAULT_AGENT_USER);
  if (agent && agent.uid !== 0 && agent.gid !== 0) {
    return { uid: agent.uid, gid: agent.gid, user: agent.name, runnerIsRoot: true, source: "forgehand-agent" };
  }
  const nobody = passwd.find((e) => e.uid === NOBODY_ID);
  return { uid: NOBODY_ID, gid: NOBODY_ID, user: nobody?.name ?? "nobody", runnerIsRoot: true, source: "nobody" };
}

function readPasswd(): string {
  try {
    return readFileSync("/etc/passwd", "utf8");
  } catch {
    return "";
  }
}
