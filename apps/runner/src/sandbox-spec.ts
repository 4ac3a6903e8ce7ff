import { randomUUID } from "node:crypto";
import { basename, join } from "node:path";
import type { Agent, IssueRef, Limits } from "@forgehand/core";
import { resolveAgentIdentity, type SandboxOptions } from "@forgehand/supervisor";
import { argvBaseUrlEgress } from "./argv-base-url-egress";

/** Vendor API endpoint of each known agent CLI (by executable name): what it needs to work at all. */
export const VENDOR_EGRESS: Record<string, string[]> = {
  // Statsig/Sentry are not needed: CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 turns them off (they are denied).
  claude: ["api.anthropic.com:443"],
  codex: ["api.openai.com:443"],
  gemini: ["generativelanguage.googleapis.com:443"],
};

/** The known agent CLI an argv runs: `claude`, `/x/node_modules/.bin/claude`, `node …/claude-code/cli.js`. */
export function knownAgentCli(command: readonly string[]): string | undefined {
  const names = command.slice(0, 2).map((arg) => basename(arg).replace(/\.(exe|js|mjs|cjs)$/, ""));
  const paths = command.slice(0, 2).join(" ");
  for (const cli of Object.keys(VENDOR_EGRESS)) {
    if (names.includes(cli)) return cli;
  }
  if (/@anthropic-ai\/claude-code\b/.test(paths)) return "claude";
  if (/@openai\/codex\b/.test(paths)) return "codex";
  if (/@google\/gemini-cli\b/.test(paths)) return "gemini";
  return undefined;
}

/** `host:port` of every `*_BASE_URL` in the agent's env (`ANTHROPIC_BASE_URL=http://127.0.0.1:8080` → 127.0.0.1:8080). */
export function baseUrlEgress(env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith("_BASE_URL")) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    out.push(`${url.hostname}:${port}`);
  }
  return out;
}

/** The full allowlist of an agent: vendor default + `*_BASE_URL` / codex `base_url` hosts + `sandbox.network.allow`. */
export function agentEgress(agent: Agent): string[] {
  const cli = knownAgentCli(agent.command);
  return [
    ...new Set([
      ...(cli ? VENDOR_EGRESS[cli]! : []),
      ...baseUrlEgress(agent.env),
      ...argvBaseUrlEgress(agent.command),
      ...agent.sandbox.network.allow,
    ]),
  ];
}

/** One path segment from forge data (an owner, a repo name): never `..`, never a slash. */
function segment(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]/g, "_");
  return s === "" || s === "." || s === ".." ? `_${s}` : s;
}

/**
 * The agent's HOME on the host: one per issue, so `/retry` resumes the session the agent kept under
 * `$HOME/.claude`, and no other issue's agent ever sees it (each sandbox binds only its own).
 */
export function agentHomeDir(dataDir: string, ref: IssueRef): string {
  const [owner, name] = [ref.repo.owner, ref.repo.name].map(segment);
  return join(dataDir, "agent-homes", segment(ref.repo.forge), owner!, name!, String(ref.number));
}

export interface SandboxInput {
  agent: Agent;
  limits: Limits;
  ref: IssueRef;
  /** Names the run cgroup. */
  runId: string;
  dataDir: string;
  configDir: string;
  /** The runner's HOME (`~/` of `sandbox.home`). */
  runnerHome?: string;
}

/**
 * The sandbox of a stage's agent (and, with another cgroup name, of its gate); undefined when the agent's config
 * says `sandbox: { enabled: false }`. Throws a TypeError for a `sandbox.user` that cannot be used.
 */
export function agentSandboxOptions(
  input: SandboxInput,
  purpose: "agent" | "gate" = "agent",
): SandboxOptions | undefined {
  const { agent, limits } = input;
  if (!agent.sandbox.enabled) return undefined;
  // A random tail: a crashed runner's leftover cgroup of the same run id must not fail the next attempt.
  const base = `${input.runId}${purpose === "gate" ? "-gate" : ""}`.replace(/[^A-Za-z0-9_.-]/g, "_").slice(-100);
  const name = `${base}-${randomUUID().slice(0, 8)}`;
  return {
    writable: agent.sandbox.writable,
    readOnly: agent.sandbox.readOnly,
    home: agent.sandbox.home,
    homeDir: agentHomeDir(input.dataDir, input.ref),
    allow: agentEgress(agent),
    // Masked wherever they would show inside a visible tree (a config dir under /etc, say).
    hide: [input.configDir, input.dataDir],
    identity: resolveAgentIdentity({ configuredUser: agent.sandbox.user }),
    cgroup: { name, memoryMax: limits.memory, pidsMax: limits.pids },
    ...(input.runnerHome ? { runnerHome: input.runnerHome } : {}),
  };
}
