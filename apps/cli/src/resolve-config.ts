import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type LoadedConfig, loadConfigFile } from "@forgehand/core";
import { checkPromptFiles } from "./check-prompt-files";
import { repoRoot } from "./package-root";

/** Where the config came from, so commands can say it (and doctor can report it). */
export type ConfigSource = "flag" | "env" | "cwd" | "example";

/** The example configuration shipped in `examples/`, used when no forgehand.yml exists. */
export function exampleConfigPath(): string {
  for (const up of [repoRoot(), process.cwd()]) {
    const candidate = join(up, "examples", "forgehand.yml");
    if (existsSync(candidate)) return resolve(candidate);
  }
  return resolve("examples", "forgehand.yml");
}

/** Picks the config path: `--config` > `FORGEHAND_CONFIG` > `./forgehand.yml` > the shipped example. */
export function resolveConfigPath(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): { path: string; source: ConfigSource } {
  if (flag) return { path: resolve(flag), source: "flag" };
  if (env.FORGEHAND_CONFIG) return { path: resolve(env.FORGEHAND_CONFIG), source: "env" };
  const local = resolve("forgehand.yml");
  if (existsSync(local)) return { path: local, source: "cwd" };
  return { path: exampleConfigPath(), source: "example" };
}

/** Loads the config from wherever `resolveConfigPath` points; throws ConfigError naming each bad field or missing prompt file. */
export function loadCliConfig(
  flag: string | undefined,
  env: Record<string, string | undefined> = process.env,
): LoadedConfig & { source: ConfigSource } {
  const { path, source } = resolveConfigPath(flag, env);
  const loaded = loadConfigFile(path, env);
  checkPromptFiles(loaded);
  return { ...loaded, source };
}
