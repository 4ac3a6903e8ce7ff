import { type Config, parseConfig } from "@forgehand/core";
import { BENCH_STAGE_LABEL } from "./github-payloads";

/** Paths of the tiny agent fixtures. */
export const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

/** A valid forgehand config with one stage (`analyse`, label `agent:analyse`) running `command`. */
export function benchConfig(
  options: {
    command?: string[];
    env?: Record<string, string>;
    killGraceMs?: number;
    concurrency?: number;
    /** `false`: the agent runs unsandboxed (`sandbox: { enabled: false }`, the baseline of figure 2). */
    sandbox?: boolean;
  } = {},
): Config {
  return parseConfig(
    {
      agents: {
        bench: {
          command: options.command ?? [process.execPath, `${FIXTURES}exit-at-once.mjs`],
          parser: "lines",
          env: options.env ?? {},
          // Sandboxed (the default, as in production): the start files go to BENCH_OUT_DIR outside the worktree.
          sandbox:
            options.sandbox === false
              ? { enabled: false }
              : { writable: options.env?.BENCH_OUT_DIR ? [options.env.BENCH_OUT_DIR] : [] },
        },
      },
      stages: [{ name: "analyse", label: BENCH_STAGE_LABEL, agent: "bench", prompt: "inline:Fix {{issue.title}}" }],
      commands: { allow: ["write", "maintain", "admin"] },
      runner: {
        concurrency: options.concurrency ?? 1,
        killGrace: options.killGraceMs ?? 5_000,
        transientRetries: 0,
      },
      status: { interval: "1h" },
    },
    {},
    "bench config",
  ).config;
}
