import type { LoadedConfig, Logger } from "@forgehand/core";
import type { ConfigSource } from "../resolve-config";

/** Logs which config is in use; says so loudly when it is the shipped example. */
export function announceConfig(loaded: LoadedConfig & { source: ConfigSource }, logger: Logger): void {
  if (loaded.source === "example")
    logger.warn("no forgehand.yml found: using the example configuration", {
      path: loaded.path,
      fix: "copy it to ./forgehand.yml or set FORGEHAND_CONFIG",
    });
  else logger.info("config loaded", { path: loaded.path, stages: loaded.config.stages.map((s) => s.name).join(",") });
  for (const miss of loaded.missingEnv)
    logger.warn("config references an unset variable", { field: miss.path, variable: miss.name });
}
