import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** Directory of the @forgehand/cli package, whether running from src/ (tsx) or the dist/ bundle. */
export function cliPackageDir(): string {
  if (cached) return cached;
  for (let d = dirname(fileURLToPath(import.meta.url)); dirname(d) !== d; d = dirname(d)) {
    const pkg = join(d, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "@forgehand/cli") {
      cached = d;
      return d;
    }
  }
  throw new Error(`[cli] cannot find the @forgehand/cli package above ${fileURLToPath(import.meta.url)}`);
}

/** Root of the forgehand checkout (two levels above apps/cli). */
export function repoRoot(): string {
  return join(cliPackageDir(), "..", "..");
}
