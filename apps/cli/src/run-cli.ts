import { ConfigError } from "@forgehand/core";
import { doctorCommand } from "./commands/doctor";
import { replayCommand } from "./commands/replay";
import { runnerCommand } from "./commands/runner";
import { runsCommand } from "./commands/runs";
import { startCommand } from "./commands/start";
import { stopCommand } from "./commands/stop";
import { webhookCommand } from "./commands/webhook";
import { UsageError } from "./parse-flags";

/** Usage text for `forgehand --help`. */
export const USAGE = `forgehand — run AI coding agents on GitHub and Gitea/Forgejo issues

Usage: forgehand <command> [options]

Commands:
  start [--port N] [--config FILE]     webhook + runner in one process; embedded Redis when REDIS_URL is unset
  webhook [--port N] [--config FILE]   the webhook app alone (needs REDIS_URL)
  runner [--concurrency N] [--config FILE]
                                       one runner alone (needs REDIS_URL); run several on one Redis
  doctor [--config FILE]               check config, Redis, forge credentials, agent binaries, git
  replay FILE --forge github|gitea --event NAME [--url U]
                                       sign a recorded payload with the configured secret and post it
  runs [--json] [--limit N]            recent runs: id, repo#issue, stage, state, elapsed, turns, cost
  stop RUN_ID                          stop a run, like a /stop comment

Config: --config FILE > FORGEHAND_CONFIG > ./forgehand.yml > the shipped examples/forgehand.yml.
Environment: REDIS_URL, PORT, FORGEHAND_CONFIG, FORGEHAND_DATA_DIR, LOG_LEVEL, FORGEHAND_API_TOKEN,
GITHUB_WEBHOOK_SECRET, GITHUB_APP_ID, GITHUB_PRIVATE_KEY(_PATH), GITHUB_TOKEN, GITHUB_API_URL,
GITEA_URL, GITEA_TOKEN, GITEA_WEBHOOK_SECRET`;

type Command = (args: string[]) => Promise<number>;

/** Command table: the real `forgehand` subcommands (the compose test checks services against it). */
export const COMMANDS: Record<string, Command> = {
  start: startCommand,
  webhook: webhookCommand,
  runner: runnerCommand,
  doctor: doctorCommand,
  replay: replayCommand,
  runs: runsCommand,
  stop: stopCommand,
};

/** Runs one CLI invocation and returns the exit code; known errors become one clear message. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`forgehand: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await command(rest);
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\nRun \`forgehand --help\` for usage.\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message.startsWith("[") ? message : `[cli] ${message}`}\n`);
  if (process.env.LOG_LEVEL === "debug" && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  return 1;
}
