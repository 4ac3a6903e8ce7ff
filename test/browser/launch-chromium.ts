import { execFileSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";

/** Debian's `chromium` (installed by scripts/prereqs.mjs for tests), or undefined when there is none. */
export function chromiumPath(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Launches the system chromium headless; as root it needs --no-sandbox (its own sandbox wants user namespaces). */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("[browser] chromium is not installed: apt-get install chromium");
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}
