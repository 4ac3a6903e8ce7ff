import { join } from "node:path";
import {
  GEMINI_ARGS,
  GEMINI_BIN,
  type GeminiScript,
  type GeminiServer,
  startGeminiServer,
  writeGeminiSettings,
} from "../../support/gemini-server";
import { DEVELOP_STAGE } from "./e2e-config";
import { type E2eWorld, type E2eWorldOptions, startE2eWorld } from "./start-e2e-world";

/** gemini-2.5-pro list prices (≤200k-token prompts), USD per million tokens: the CLI reports no cost. */
export const GEMINI_TEST_PRICES = { "gemini-2.5-pro": { input: 1.25, output: 10, cacheRead: 0.125 } };

/** Options for {@link startGeminiWorld}: an e2e world whose stages all run the real Gemini CLI. */
export interface GeminiWorldOptions extends Omit<E2eWorldOptions, "script"> {
  gemini: GeminiScript;
  /** Merged into the gemini agent's env. */
  agentEnv?: Record<string, string>;
}

export interface GeminiWorld extends E2eWorld {
  gemini: GeminiServer;
}

/**
 * The gemini agent as a deployment would configure it (see examples/forgehand.yml), pointed at the scripted
 * Gemini server: GOOGLE_GEMINI_BASE_URL puts the server's host:port on the sandbox's egress allowlist, and the
 * runner's `~/.gemini/settings.json` (API-key auth, 2 attempts per call) is seeded into the per-issue HOME.
 */
export function geminiAgent(url: string, env: Record<string, string> = {}): Record<string, unknown> {
  return {
    command: [GEMINI_BIN, ...GEMINI_ARGS],
    parser: "gemini-stream-json",
    env: { GEMINI_API_KEY: "test", GOOGLE_GEMINI_BASE_URL: url, GEMINI_CLI_TRUST_WORKSPACE: "true", ...env },
    resumeArgs: ["--resume", "{sessionId}"],
    sandbox: { enabled: true, home: ["~/.gemini/settings.json"] },
  };
}

/** Starts the Gemini server and an e2e world whose stages (default: develop) run agent `gemini`. */
export async function startGeminiWorld(options: GeminiWorldOptions): Promise<GeminiWorld> {
  const gemini = await startGeminiServer({ script: options.gemini });
  let world: E2eWorld;
  try {
    world = await startE2eWorld({
      ...options,
      script: () => ({ text: "[e2e] the claude agent is not used by gemini scenarios" }),
      stages: (options.stages ?? [DEVELOP_STAGE]).map((stage) => ({ ...stage, agent: "gemini" })),
      config: {
        ...options.config,
        agents: { gemini: geminiAgent(gemini.url, options.agentEnv) },
        prices: GEMINI_TEST_PRICES,
      },
    });
  } catch (error) {
    await gemini.close();
    throw error;
  }
  // The runner's HOME exists only now; the file is copied into the agent's HOME at each run start.
  writeGeminiSettings(join(world.dir, "home"));
  return {
    ...world,
    gemini,
    diagnose: () =>
      `${world.diagnose()}\ngemini requests: ${gemini.requests.map((r) => `${r.method} ${r.path} ${r.kind}`).join(", ")}`,
    async close() {
      await world.close();
      await gemini.close();
    },
  };
}
