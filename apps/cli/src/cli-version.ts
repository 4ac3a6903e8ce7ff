import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cliPackageDir } from "./package-root";

/** The version `forgehand --version` prints: the @forgehand/cli package's own. */
export function cliVersion(): string {
  return JSON.parse(readFileSync(join(cliPackageDir(), "package.json"), "utf8")).version as string;
}
