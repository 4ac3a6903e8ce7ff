import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type RepoRef } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import { createForgeClients, forgeOptionsFromEnv } from "./create-forge-clients";
import type { ForgeClient } from "./forge-client";
import { associationDenies, createPermissionCache, isAllowed } from "./permission-cache";

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe("forgeOptionsFromEnv", () => {
  it("reads a PAT, the API URL, Gitea and bot logins", () => {
    expect(
      forgeOptionsFromEnv({
        GITHUB_TOKEN: "ghp_x",
        GITHUB_API_URL: "https://ghe.local/api/v3",
        GITEA_URL: "https://gitea.local",
        GITEA_TOKEN: "gt",
        FORGEHAND_GITHUB_LOGIN: "fh[bot]",
        FORGEHAND_GITEA_LOGIN: "fh",
      }),
    ).toEqual({
      github: { apiUrl: "https://ghe.local/api/v3", token: "ghp_x", botLogin: "fh[bot]" },
      gitea: { url: "https://gitea.local", token: "gt", botLogin: "fh" },
    });
    expect(forgeOptionsFromEnv({})).toEqual({});
  });

  it("prefers App credentials, reading the key from a path or with escaped newlines", () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-key-"));
    writeFileSync(join(dir, "k.pem"), "-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
    const fromPath = forgeOptionsFromEnv({
      GITHUB_APP_ID: "12",
      GITHUB_PRIVATE_KEY_PATH: join(dir, "k.pem"),
      GITHUB_TOKEN: "t",
    });
    expect(fromPath.github).toMatchObject({ appId: "12", privateKey: expect.stringContaining("abc\n") });
    expect(fromPath.github?.token).toBeUndefined();
    expect(forgeOptionsFromEnv({ GITHUB_APP_ID: "12", GITHUB_PRIVATE_KEY: "a\\nb" }).github?.privateKey).toBe("a\nb");
  });

  it("names what is missing", () => {
    expect(() => forgeOptionsFromEnv({ GITHUB_APP_ID: "12" })).toThrow(/GITHUB_APP_ID is "12" but neither/);
    expect(() => forgeOptionsFromEnv({ GITHUB_APP_ID: "1", GITHUB_PRIVATE_KEY_PATH: "/nope.pem" })).toThrow(
      /"\/nope.pem"/,
    );
    expect(() => forgeOptionsFromEnv({ GITEA_URL: "https://g" })).toThrow(/set both GITEA_URL and GITEA_TOKEN/);
  });
});

describe("createForgeClients", () => {
  it("picks the client per forge, caches it, and one per App installation", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    emu = await startForgeEmulator({ flavour: "github", app: { id: 9, publicKey, installations: [1, 2] } });
    emu.addRepo("acme/app");
    const clients = createForgeClients({
      github: {
        apiUrl: emu.apiUrl,
        appId: 9,
        privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        throttle: false,
      },
      gitea: { url: "http://gitea.invalid", token: "t", botLogin: "fh" },
    });
    const a = clients.for("github", 1);
    expect(clients.for("github", 1)).toBe(a);
    const b = clients.for("github", 2);
    expect(b).not.toBe(a);
    expect(clients.for("gitea").forge).toBe("gitea");
    expect(clients.botLogin("gitea")).toBe("fh");
    expect(clients.botLogin("github")).toBeUndefined();
    const repo: RepoRef = { forge: "github", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
    await a.getRepository(repo);
    await b.getRepository(repo);
    expect(emu.calls.filter((c) => c.path.endsWith("/access_tokens")).map((c) => c.path)).toEqual([
      "/app/installations/1/access_tokens",
      "/app/installations/2/access_tokens",
    ]);
    expect(() => clients.for("github")).toThrow(/installation id/);
    expect(() => createForgeClients({}).for("gitea")).toThrow(/gitea is not configured/);
    expect(() => createForgeClients({}).for("github")).toThrow(/github is not configured/);
  });
});

describe("permissions", () => {
  const config = parseConfig(
    {
      agents: { a: { command: ["x"] } },
      stages: [{ name: "s", label: "l", agent: "a", prompt: "p" }],
      commands: { allowUsers: ["Trusted"] },
    },
    {},
  ).config;

  it("caches answers for the TTL and does not cache failures", async () => {
    let now = 0;
    let asked = 0;
    let fail = false;
    const forge = {
      forge: "github",
      async getPermission() {
        asked++;
        if (fail) throw new Error("down");
        return "write";
      },
    } as unknown as ForgeClient;
    const repo = { fullName: "a/b" } as RepoRef;
    const cache = createPermissionCache(1000, () => now);
    expect(await cache.get(forge, repo, "Al")).toBe("write");
    expect(await cache.get(forge, repo, "al")).toBe("write");
    expect(asked).toBe(1);
    now = 1500;
    fail = true;
    await expect(cache.get(forge, repo, "al")).rejects.toThrow("down");
    fail = false;
    expect(await cache.get(forge, repo, "al")).toBe("write");
    expect(asked).toBe(3);
  });

  it("allows by permission or allowlist, and lets author_association only deny", () => {
    expect(isAllowed("write", config, "x")).toBe(true);
    expect(isAllowed("triage", config, "x")).toBe(false);
    expect(isAllowed("none", config, "trusted")).toBe(true);
    expect(associationDenies("FIRST_TIMER", config)).toBe(true);
    expect(associationDenies("NONE", config)).toBe(true);
    expect(associationDenies("OWNER", config)).toBe(false);
    expect(associationDenies(undefined, config)).toBe(false);
    const readOk = { ...config, commands: { ...config.commands, allow: ["read" as const] } };
    expect(associationDenies("NONE", readOk)).toBe(false);
  });
});
