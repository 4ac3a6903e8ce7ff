import { generateKeyPairSync } from "node:crypto";
import { createServer, type Socket } from "node:net";
import type { Logger } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import { createForgeClients } from "./create-forge-clients";
import { discoverBotLogin, resolveBotLogins } from "./resolve-bot-logins";

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function emulator(flavour: "github" | "gitea", app?: Parameters<typeof startForgeEmulator>[0]["app"]) {
  const emu: ForgeEmulator = await startForgeEmulator({ flavour, tokens: { "bot-token": "fh-bot" }, app });
  closers.push(() => emu.close());
  return emu;
}

/** A logger that keeps what it was told, to check the hint on failure. */
function recordingLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger: Logger = {
    debug: (msg) => lines.push({ level: "debug", msg }),
    info: (msg) => lines.push({ level: "info", msg }),
    warn: (msg) => lines.push({ level: "warn", msg }),
    error: (msg) => lines.push({ level: "error", msg }),
    child: () => logger,
  };
  return { logger, lines };
}

describe("discoverBotLogin", () => {
  it("asks GitHub GET /user for a token and Gitea GET /api/v1/user", async () => {
    const gh = await emulator("github");
    const gt = await emulator("gitea");
    expect(await discoverBotLogin("github", { github: { apiUrl: gh.apiUrl, token: "bot-token" } })).toBe("fh-bot");
    expect(gh.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual(["GET /user 200"]);
    expect(await discoverBotLogin("gitea", { gitea: { url: gt.url, token: "bot-token" } })).toBe("fh-bot");
    expect(gt.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual(["GET /user 200"]);
    await expect(discoverBotLogin("gitea", { gitea: { url: gt.url, token: "wrong" } })).rejects.toThrow(
      /api\/v1\/user answered 401/,
    );
  });

  it("asks GitHub GET /app with the app JWT and answers `${slug}[bot]`", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const gh = await emulator("github", { id: 77, publicKey, slug: "my-forgehand" });
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    expect(await discoverBotLogin("github", { github: { apiUrl: gh.apiUrl, appId: 77, privateKey: pem } })).toBe(
      "my-forgehand[bot]",
    );
    expect(gh.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual(["GET /app 200"]);
    // A JWT for another app id is refused, and the error names the endpoint.
    await expect(
      discoverBotLogin("github", { github: { apiUrl: gh.apiUrl, appId: 78, privateKey: pem } }),
    ).rejects.toThrow(/\/app answered 401/);
  });
});

describe("resolveBotLogins", () => {
  it("keeps an explicit login without asking, discovers the others, and feeds createForgeClients", async () => {
    const gh = await emulator("github");
    const gt = await emulator("gitea");
    const { logger, lines } = recordingLogger();
    const { options, results } = await resolveBotLogins(
      {
        github: { apiUrl: gh.apiUrl, token: "bot-token", botLogin: "explicit-bot" },
        gitea: { url: gt.url, token: "bot-token" },
      },
      { logger },
    );
    expect(results).toEqual([
      { forge: "github", login: "explicit-bot", source: "env" },
      { forge: "gitea", login: "fh-bot", source: "discovered" },
    ]);
    expect(gh.calls).toEqual([]);
    const clients = createForgeClients(options);
    expect(clients.botLogin("github")).toBe("explicit-bot");
    expect(clients.botLogin("gitea")).toBe("fh-bot");
    expect(lines.map((l) => l.msg)).toEqual([
      "bot login github=explicit-bot (env)",
      "bot login gitea=fh-bot (discovered)",
    ]);
  });

  it("never throws: a forge that hangs is given up after the timeout with a hint to set the env variable", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const port = (silent.address() as { port: number }).port;
    const { logger, lines } = recordingLogger();
    const began = Date.now();
    const { options, results } = await resolveBotLogins(
      { github: { apiUrl: `http://127.0.0.1:${port}`, token: "t" }, gitea: { url: "http://127.0.0.1:1", token: "t" } },
      { logger, timeoutMs: 300 },
    );
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(results.map((r) => [r.forge, r.source, r.login])).toEqual([
      ["github", "unknown", undefined],
      ["gitea", "unknown", undefined],
    ]);
    expect(createForgeClients(options).botLogin("github")).toBeUndefined();
    const warns = lines.filter((l) => l.level === "warn").map((l) => l.msg);
    expect(warns[0]).toMatch(/bot login github unknown: .*set FORGEHAND_GITHUB_LOGIN/);
    expect(warns[1]).toMatch(/bot login gitea unknown: .*set FORGEHAND_GITEA_LOGIN/);
  });

  it("does nothing for forges that are not configured", async () => {
    expect(await resolveBotLogins({})).toEqual({ options: {}, results: [] });
  });
});
