import { generateKeyPairSync } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { cleanEnv, runForgehand, spawnForgehand, tempDir } from "./run-forgehand";

const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" });

/** GitHub's manifest-conversion endpoint, as documented: one code, answered once. */
async function fakeGitHub(code: string) {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    if (req.method === "POST" && req.url === `/app-manifests/${code}/conversions`)
      return void res.writeHead(201, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: 4242,
          slug: "forgehand-test",
          pem,
          webhook_secret: "whsec-from-github",
          client_id: "x",
        }),
      );
    res.writeHead(404).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => server.close() };
}

describe("forgehand setup github", { timeout: 90_000 }, () => {
  it("--json prints a manifest with forgehand's permissions, events and webhook URL (+ workflows on request)", async () => {
    const plain = await runForgehand(["setup", "github", "--url", "https://smee.io/abc", "--json"]);
    expect(plain.code, plain.stderr).toBe(0);
    const manifest = JSON.parse(plain.stdout);
    expect(manifest.hook_attributes).toEqual({ url: "https://smee.io/abc/webhooks/github", active: true });
    expect(manifest.default_permissions).toEqual({
      issues: "write",
      pull_requests: "write",
      contents: "write",
      metadata: "read",
    });
    expect(manifest.default_events).toEqual(["issues", "issue_comment", "pull_request"]);
    expect(manifest.public).toBe(false);
    const wf = JSON.parse(
      (await runForgehand(["setup", "github", "--url", "https://x.example", "--json", "--workflows"])).stdout,
    );
    expect(wf.default_permissions.workflows).toBe("write");
  });

  it("rejects a missing or non-http --url and an unknown forge with exit 2", async () => {
    expect((await runForgehand(["setup", "github"])).code).toBe(2);
    expect((await runForgehand(["setup", "github", "--url", "ftp://x"])).stderr).toContain("--url must be");
    expect((await runForgehand(["setup", "gitlab", "--url", "https://x"])).code).toBe(2);
  });

  it("serves the manifest form, takes GitHub's redirect, and saves id, key (0600) and secret to .env", async () => {
    const github = await fakeGitHub("code123");
    const dir = tempDir("setup");
    const child = spawnForgehand(["setup", "github", "--url", "https://bot.example.com", "--org", "acme"], {
      cwd: dir,
      env: cleanEnv({ GITHUB_API_URL: github.url, FORGEHAND_DATA_DIR: join(dir, "data") }),
    });
    let stdout = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    try {
      const page = await new Promise<string>((resolve) => {
        const check = () => {
          const m = stdout.match(/Open (http:\/\/127\.0\.0\.1:\d+\/)/);
          if (m) resolve(m[1]!);
          else setTimeout(check, 100);
        };
        check();
      });
      const html = await (await fetch(page)).text();
      const action = html.match(/<form action="([^"]+)"/)![1]!.replace(/&amp;/g, "&");
      // GHES-style API URL → the web origin; an organisation's "new App" page; a state to check.
      expect(action).toMatch(new RegExp(`^${github.url}/organizations/acme/settings/apps/new\\?state=[0-9a-f]{32}$`));
      const state = new URL(action).searchParams.get("state")!;
      const manifest = JSON.parse(html.match(/name="manifest" value="([^"]+)"/)![1]!.replace(/&quot;/g, '"'));
      expect(manifest.redirect_url).toBe(`${page}callback`);
      // A redirect with the wrong state is refused and exchanges nothing.
      expect((await fetch(`${page}callback?code=code123&state=wrong`)).status).toBe(400);
      expect(github.calls).toEqual([]);
      const done = await fetch(`${page}callback?code=code123&state=${state}`);
      expect(done.status).toBe(200);
      expect(await exited).toBe(0);
      const env = parseEnv(readFileSync(join(dir, ".env"), "utf8"));
      expect(env).toMatchObject({
        GITHUB_APP_ID: "4242",
        GITHUB_WEBHOOK_SECRET: "whsec-from-github",
        FORGEHAND_GITHUB_LOGIN: "forgehand-test[bot]",
      });
      expect(readFileSync(env.GITHUB_PRIVATE_KEY_PATH!, "utf8")).toBe(pem);
      expect(statSync(env.GITHUB_PRIVATE_KEY_PATH!).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
      expect(stdout).not.toContain("whsec-from-github");
      // doctor, reading that .env, accepts the App key.
      const doctor = await runForgehand(["doctor"], {
        cwd: dir,
        env: cleanEnv({ FORGEHAND_DATA_DIR: join(dir, "data") }),
      });
      expect(doctor.stdout).toMatch(/✓ github +GitHub App 4242, private key parses/);
      // A second exchange into the same .env is refused, naming what it already sets.
      const again = await runForgehand(["setup", "github", "--code", "code123"], {
        cwd: dir,
        env: cleanEnv({ GITHUB_API_URL: github.url }),
      });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already sets GITHUB_APP_ID");
    } finally {
      child.kill("SIGKILL");
      github.close();
    }
  });
});
