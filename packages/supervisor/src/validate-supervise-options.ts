import { pidEntryPath } from "./pid-registry";
import type { SuperviseOptions } from "./types";

/** Throws a `[supervisor]` TypeError naming the first bad option and echoing its value. Spawns nothing. */
export function validateSuperviseOptions(options: SuperviseOptions): void {
  const { command, limits } = options;
  if (!Array.isArray(command) || command.length === 0 || command.some((arg) => typeof arg !== "string")) {
    throw new TypeError(
      `[supervisor] Expected \`command\` to be a non-empty argv array, got \`${JSON.stringify(command)}\``,
    );
  }
  if (command[0] === "") throw new TypeError("[supervisor] Expected `command[0]` to name a program, got ``");
  if (typeof options.cwd !== "string" || options.cwd === "") {
    throw new TypeError(`[supervisor] Expected \`cwd\` to be a directory path, got \`${options.cwd}\``);
  }
  if (!["claude-stream-json", "codex-json", "gemini-stream-json", "lines"].includes(options.parser)) {
    throw new TypeError(
      `[supervisor] Expected \`parser\` claude-stream-json, codex-json, gemini-stream-json or lines, got \`${options.parser}\``,
    );
  }
  if (options.prompt?.via !== "stdin" && options.prompt?.via !== "file") {
    throw new TypeError(`[supervisor] Expected \`prompt.via\` stdin or file, got \`${options.prompt?.via}\``);
  }
  // The run id names the registry file: check it before anything is spawned.
  if (options.registryDir !== undefined) pidEntryPath(options.registryDir, options.runId);
  checkNonNegative("killGraceMs", options.killGraceMs);
  for (const key of ["timeoutMs", "stallMs", "maxTurns", "maxBudgetUsd"] as const) {
    if (limits[key] !== undefined) checkNonNegative(`limits.${key}`, limits[key]);
  }
}

function checkNonNegative(name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`[supervisor] Expected \`${name}\` >= 0, got \`${String(value)}\``);
  }
}
