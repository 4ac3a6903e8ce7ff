import { runCli } from "./run-cli";

// Only wiring here: argv in, exit code out.
process.exitCode = await runCli(process.argv.slice(2));
