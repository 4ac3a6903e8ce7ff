/** Usage text for `forgehand --help`. */
export const USAGE = `forgehand — run AI coding agents on GitHub and Gitea/Forgejo issues

Usage: forgehand <command> [options]

Commands:
  start [--port N] [--config FILE]     webhook + runner in one process; embedded Redis when REDIS_URL is unset
  webhook [--port N]                   the webhook app alone
  runner [--concurrency N]             one runner alone
  doctor                               check config, Redis, forge credentials, agent binaries, git
  replay FILE --forge github|gitea --event NAME [--url U]
                                       sign a recorded payload with the configured secret and post it
  runs [--json]                        recent runs
  stop RUN_ID                          stop a run, like a /stop comment

Environment: REDIS_URL, PORT, FORGEHAND_CONFIG, FORGEHAND_DATA_DIR, LOG_LEVEL, FORGEHAND_API_TOKEN,
GITHUB_WEBHOOK_SECRET, GITHUB_APP_ID, GITHUB_PRIVATE_KEY(_PATH), GITHUB_TOKEN, GITHUB_API_URL,
GITEA_URL, GITEA_TOKEN, GITEA_WEBHOOK_SECRET`;

type Command = (args: string[]) => Promise<number>;

const notBuilt =
  (name: string): Command =>
  async () => {
    process.stderr.write(`forgehand ${name}: not built yet in this version.\n`);
    return 2;
  };

/** Command table; each entry is filled in as its feature lands. */
export const COMMANDS: Record<string, Command> = {
  start: notBuilt("start"),
  webhook: notBuilt("webhook"),
  runner: notBuilt("runner"),
  doctor: notBuilt("doctor"),
  replay: notBuilt("replay"),
  runs: notBuilt("runs"),
  stop: notBuilt("stop"),
};

/** Runs one CLI invocation and returns the exit code. */
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
  return command(rest);
}
