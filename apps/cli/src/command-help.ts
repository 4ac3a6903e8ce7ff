// Per-command help: what `forgehand <command> --help` prints. command-help.test.ts checks that every
// flag a command's parseFlags accepts is listed here, so the help cannot drift from the parser.

const CONFIG = "  --config FILE        forgehand.yml (default: FORGEHAND_CONFIG, ./forgehand.yml, the shipped example)";
const PORT = "  --port N             HTTP port (default: PORT, else 3000; 0 picks a free one)";
const HOST = "  --host ADDR          address to bind (default: HOST, else 0.0.0.0 = every interface)";
const HELP = "  -h, --help           this help";

/** Help text per command; the key set is COMMANDS' (run-cli.ts). */
export const COMMAND_HELP: Record<string, string> = {
  start: `Usage: forgehand start [--port N] [--host ADDR] [--config FILE]

The webhook and a runner in one process; an embedded Redis when REDIS_URL is unset.

Options:
${PORT}
${HOST}
${CONFIG}
${HELP}`,
  webhook: `Usage: forgehand webhook [--port N] [--host ADDR] [--config FILE]

The webhook app alone, on the Redis at REDIS_URL (required).

Options:
${PORT}
${HOST}
${CONFIG}
${HELP}`,
  runner: `Usage: forgehand runner [--concurrency N] [--config FILE]

One runner alone, on the Redis at REDIS_URL (required); run several on one Redis.

Options:
  --concurrency N      stage jobs run at once (default: runner.concurrency in the config)
${CONFIG}
${HELP}`,
  doctor: `Usage: forgehand doctor [--config FILE]

Checks config, prompt files, Redis, forge credentials, each agent's program and credentials, the
sandbox, git, the data dir and the local webhook URL. Exit 1 when any check fails.

Options:
${CONFIG}
${HELP}`,
  replay: `Usage: forgehand replay FILE --forge github|gitea --event NAME [--url URL]

Signs a recorded payload with the configured webhook secret and posts it, as the forge would.

Options:
  --forge github|gitea which forge's signature and headers to use (required)
  --event NAME         the event header, e.g. issues, issue_comment, issue_label (required)
  --url URL            where to post (default: http://127.0.0.1:PORT/webhooks/FORGE)
${HELP}`,
  runs: `Usage: forgehand runs [--json] [--limit N]

Recent runs: id, repo#issue, stage, state, elapsed, turns, cost.

Options:
  --json               print the run records as JSON
  --limit N            how many (default: 20)
${HELP}`,
  stop: `Usage: forgehand stop RUN_ID

Stops a run, like a /stop comment (see \`forgehand runs\` for ids).

Options:
${HELP}`,
  setup: `Usage: forgehand setup github --url PUBLIC_URL [--name NAME] [--org ORG] [--workflows] [--json]
       forgehand setup github --code CODE [--env-file FILE]

Registers a GitHub App from a manifest (docs/getting-started.md). The first form serves a page on
127.0.0.1: open it, press the button, confirm on GitHub; GitHub sends the browser back with a code,
which is exchanged for the App id, private key and webhook secret, saved to the env file. With
--json it prints the manifest instead; post it yourself and pass the code GitHub returns to --code.

Options:
  --url PUBLIC_URL     the URL GitHub reaches forgehand at (the webhook is PUBLIC_URL/webhooks/github)
  --name NAME          the App's name (default: forgehand-<your host>)
  --org ORG            register the App on an organisation instead of your account
  --workflows          also ask for Workflows write (needed if agents may change .github/workflows)
  --json               print the manifest JSON instead of writing the HTML page
  --code CODE          the code GitHub put in the redirect URL (valid for one hour)
  --env-file FILE      where to append the credentials (default: .env)
${HELP}`,
};
