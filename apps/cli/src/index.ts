export { type CheckResult, checkForges } from "./doctor-checks";
export { formatRunsTable } from "./format-runs";
export { COMMANDS, runCli, USAGE } from "./run-cli";
export { signDelivery } from "./sign-delivery";
