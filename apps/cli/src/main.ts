import { runCli } from "./run-cli";

// Only wiring here: argv in, exit code out. Every command has finished (servers closed, children
// stopped) when runCli resolves, so exit once output is flushed instead of waiting for
// lingering client timers (e.g. a reconnect delay after a refused Redis connection).
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
