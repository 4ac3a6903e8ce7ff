import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./package-root";
import { agentSearchEnv } from "./start-runner";

describe("agentSearchEnv", () => {
  const bin = join(repoRoot(), "node_modules", ".bin");

  it("appends the checkout's node_modules/.bin after the user's PATH, where the bundled claude lives", () => {
    expect(existsSync(join(bin, "claude"))).toBe(true);
    expect(agentSearchEnv({ PATH: "/usr/bin:/bin", HOME: "/h" })).toEqual({ PATH: `/usr/bin:/bin:${bin}`, HOME: "/h" });
  });

  it("leaves PATH alone when npm already put .bin on it", () => {
    const env = { PATH: `${bin}:/usr/bin` };
    expect(agentSearchEnv(env)).toBe(env);
  });
});
