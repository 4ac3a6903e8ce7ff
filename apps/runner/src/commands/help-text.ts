import type { Config } from "@forgehand/core";

const COMMANDS: [string, string][] = [
  ["/stop", "stop the run on this issue"],
  ["/retry", "run the last stage again, resuming the agent session where possible"],
  ["/run STAGE", "start a named stage"],
  ["/status", "refresh the status comment now"],
  ["/help", "show this help"],
];

/** `/stop`, `/retry`, … as one line. */
export function knownCommands(): string {
  return COMMANDS.map(([c]) => `\`${c}\``).join(", ");
}

/** The `/help` reply: commands, stages with their labels, and who may use them. */
export function helpText(config: Config): string {
  return [
    "forgehand commands (at the start of a line):",
    "",
    ...COMMANDS.map(([c, what]) => `- \`${c}\`: ${what}`),
    "",
    "Stages:",
    "",
    ...config.stages.map((s) => `- \`${s.name}\` (label \`${s.label}\`)${s.next ? ` → \`${s.next}\`` : ""}`),
    "",
    `Allowed for: ${config.commands.allow.join(", ")}${config.commands.allowUsers.length ? ` and ${config.commands.allowUsers.join(", ")}` : ""}.`,
  ].join("\n");
}
