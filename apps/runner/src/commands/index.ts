export { type CommandDeps, handleCommandJob } from "./handle-command-job";
export { helpText, knownCommands } from "./help-text";
