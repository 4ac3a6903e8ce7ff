import { runCommand } from "@forgehand/supervisor";

export interface ExecOptions {
  cwd?: string;
  /** The environment; a variable set to undefined is removed. @defaultValue process.env */
  env?: Record<string, string | undefined>;
  /** Throw on a non-zero exit (or a spawn failure). @defaultValue true */
  reject?: boolean;
}

/**
 * Runs argv for a test or a measurement through the supervisor, which starts every child process; stdout without
 * its final newline. Throws unless the exit code is 0, except with `reject: false`.
 */
export async function exec(
  argv: string[],
  opts: ExecOptions = {},
): Promise<{ stdout: string; exitCode: number | null }> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.env ?? process.env)) if (value !== undefined) env[key] = value;
  const result = await runCommand({ argv, cwd: opts.cwd ?? process.cwd(), env });
  const stdout = result.stdout.replace(/\r?\n$/, "");
  if (opts.reject !== false && result.exitCode !== 0) {
    const why = result.spawnError?.message ?? `exit code ${result.exitCode ?? result.signal}`;
    throw new Error(`[test] \`${argv.join(" ")}\` failed (${why}): ${result.stderr.trim()}`);
  }
  return { stdout, exitCode: result.exitCode };
}
