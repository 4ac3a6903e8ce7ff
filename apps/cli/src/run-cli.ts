import { ConfigError } from "@forgehand/core";
import { cliVersion } from "./cli-version";
import { COMMAND_HELP } from "./command-help";
import { doctorCommand } from "./commands/doctor";
import { replayCommand } from "./commands/replay";
import { runnerCommand } from "./commands/runner";
import { runsCommand } from "./commands/runs";
import { setupCommand } from "./commands/setup";
import { startCommand } from "./commands/start";
import { stopCommand } from "./commands/stop";
import { webhookCommand } from "./commands/webhook";
import { UsageError } from "./parse-flags";

/** Usage text for `forgehand --help`. */
export const USAGE = `forgehand — run AI coding agents on GitHub and Gitea/Forgejo issues

Usage: forgehand <command> [options]      forgehand <command> --help      forgehand --version

Commands:
  start [--port N] [--host ADDR] [--config FILE]
                                       webhook + runner in one process; embedded Redis when REDIS_URL is unset
  webhook [--port N] [--host ADDR] [--config FILE]
                                       the webhook app alone (needs REDIS_URL)
  runner [--concurrency N] [--config FILE]
                                       one runner alone (needs REDIS_URL); run several on one Redis
  doctor [--config FILE]               check config, prompts, Redis, forge and agent credentials, sandbox, git
  replay FILE --forge github|gitea --event NAME [--url U]
                                       sign a recorded payload with the configured secret and post it
  runs [--json] [--limit N]            recent runs: id, repo#issue, stage, state, elapsed, turns, cost
  stop RUN_ID                          stop a run, like a /stop comment
  setup github --url PUBLIC_URL        register the GitHub App from a manifest (docs/getting-started.md)

Config: --config FILE > FORGEHAND_CONFIG > ./forgehand.yml > the shipped examples/forgehand.yml.
./.env is read first; variables already set win (FORGEHAND_ENV_FILE names another file, "" none).
Environment: REDIS_URL, PORT, HOST, FORGEHAND_CONFIG, FORGEHAND_DATA_DIR, LOG_LEVEL, FORGEHAND_API_TOKEN,
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
  setup: setupCommand,
};

/** Runs one CLI invocation and returns the exit code; known errors become one clear message. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // No command is a usage error (exit 2, usage on stderr); asking for help is not.
  if (!name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    process.stdout.write(`${(topic && COMMAND_HELP[topic]) || USAGE}\n`);
    return 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`forgehand ${cliVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`forgehand: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  // Only before `--`: after it, `--help` would be a positional argument.
  const options = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (options.includes("--help") || options.includes("-h")) {
    process.stdout.write(`${COMMAND_HELP[name] ?? USAGE}\n`);
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
