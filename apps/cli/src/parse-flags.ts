import { parseArgs } from "node:util";

/** Thrown for bad command-line usage; the CLI prints it with the usage line and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** Parses `--flag value` options and positionals strictly; unknown flags are a UsageError naming the flag. */
export function parseFlags<T extends FlagSpec>(command: string, args: string[], flags: T) {
  try {
    const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true, strict: true });
    return { values: values as { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string }, positionals };
  } catch (error) {
    throw new UsageError(`[cli] forgehand ${command}: ${(error as Error).message}`);
  }
}

/** Parses a positive integer flag (`--port`, `--concurrency`), echoing the bad value. */
export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`[cli] ${flag} must be a positive integer, got \`${value}\``);
  return n;
}

/** Parses a TCP port flag; 0 asks the OS for a free port. */
export function portNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`[cli] ${flag} must be a port number (0-65535), got \`${value}\``);
  return n;
}
