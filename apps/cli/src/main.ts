import { loadEnvFile } from "./load-env-file";
import { endQuietlyOnEpipe } from "./quiet-epipe";
import { runCli } from "./run-cli";

// Only wiring here: argv in, exit code out. Every command has finished (servers closed, children
// stopped) when runCli resolves, so exit once output is flushed instead of waiting for
// lingering client timers (e.g. a reconnect delay after a refused Redis connection).
endQuietlyOnEpipe();
// ./.env (if any) fills in what the environment lacks; FORGEHAND_ENV_FILE names another file ("" = none).
const envFile = process.env.FORGEHAND_ENV_FILE ?? ".env";
const code = envFile ? await loadAndRun(envFile) : await runCli(process.argv.slice(2));
process.exitCode = code;
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));

async function loadAndRun(path: string): Promise<number> {
  try {
    loadEnvFile(path);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  return runCli(process.argv.slice(2));
}
