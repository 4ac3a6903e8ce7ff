import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { LoadedConfig } from "@forgehand/core";
import type { CheckResult } from "./doctor-checks";

type Env = Record<string, string | undefined>;

/** How each known agent CLI authenticates: API key variables, or its own login's files under HOME. */
const KNOWN: Record<string, { keys: string[]; login: string[]; loginHint: string }> = {
  claude: {
    keys: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN"],
    login: [".claude/.credentials.json"],
    loginHint: "`claude login` (or `claude setup-token` → CLAUDE_CODE_OAUTH_TOKEN)",
  },
  codex: {
    keys: ["OPENAI_API_KEY", "CODEX_API_KEY"],
    login: [".codex/auth.json"],
    loginHint: "`codex login`",
  },
  gemini: {
    keys: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    login: [".gemini/oauth_creds.json", ".gemini/settings.json"],
    loginHint: "`gemini` (sign in once)",
  },
};

/**
 * Each configured agent whose CLI forgehand knows (claude, codex, gemini): an API key in the
 * agent's own `env` (the only environment it gets, agent-env.ts), or the CLI's login under the
 * runner's HOME — which a sandboxed agent sees only when `sandbox.home` copies it in.
 */
export function checkAgentCredentials(loaded: LoadedConfig, env: Env): CheckResult[] {
  const results: CheckResult[] = [];
  for (const [name, agent] of Object.entries(loaded.config.agents)) {
    const cli = basename(agent.command[0]!);
    const known = KNOWN[cli];
    if (!known) continue;
    const label = `agent ${name} auth`;
    const key = known.keys.find((k) => agent.env[k]);
    if (key) {
      results.push({ name: label, status: "ok", detail: `${key} is set in agents.${name}.env` });
      continue;
    }
    const home = env.HOME;
    const login = home ? known.login.find((f) => existsSync(join(home, f))) : undefined;
    const sandboxed = agent.sandbox.enabled;
    const copied =
      login && known.login.some((f) => agent.sandbox.home.some((h) => `~/${f}`.startsWith(h.replace(/\/$/, ""))));
    if (login && (!sandboxed || copied))
      results.push({
        name: label,
        status: "ok",
        detail: `${cli}'s own login: ~/${login}${sandboxed ? " (copied into the sandbox)" : ""}`,
      });
    else if (login)
      results.push({
        name: label,
        status: "fail",
        detail: `~/${login} exists but the sandboxed agent does not see it: add "~/${login}" to agents.${name}.sandbox.home, or set ${known.keys[0]} in agents.${name}.env`,
      });
    else
      results.push({
        name: label,
        status: "fail",
        detail: `no credentials: set ${known.keys.slice(0, 2).join(" or ")} in agents.${name}.env (e.g. "\${${known.keys[0]}}"), or log in with ${known.loginHint}`,
      });
  }
  return results;
}
