import { generateKeyPairSync } from "node:crypto";
import type { IssueRef, RepoRef } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import { ForgeApiError } from "./forge-api-error";
import { createGitHubClient } from "./github-client";

const repo: RepoRef = { forge: "github", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
const issue = (number: number): IssueRef => ({ repo, number, isPr: false });

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function setup(app?: Parameters<typeof startForgeEmulator>[0]["app"]) {
  emu = await startForgeEmulator({ flavour: "github", app });
  emu.addRepo("acme/app", { labels: ["bug"] });
  emu.addIssue("acme/app", { number: 1, title: "Crash", body: "boom", labels: ["bug"] });
  return emu;
}

const pat = (e: ForgeEmulator, extra: Partial<Parameters<typeof createGitHubClient>[0]> = {}) =>
  createGitHubClient({ apiUrl: e.apiUrl, token: "test-token", throttle: false, ...extra });

describe("github client (PAT)", () => {
  it("uses role_name for every permission level; unknown users (404) are none", async () => {
    const e = await setup();
    const client = pat(e);
    for (const role of ["admin", "maintain", "write", "triage", "read", "none"] as const) {
      e.setPermission("acme/app", `u-${role}`, role);
      expect(await client.getPermission(repo, `u-${role}`)).toBe(role);
    }
    expect(await client.getPermission(repo, "ghost")).toBe("none");
    expect(e.calls.at(-1)?.status).toBe(404);
  });

  it("creates, finds by marker across pages, edits comments and reads the issue", async () => {
    const e = await setup();
    const client = pat(e);
    const r = e.state.repos.get("acme/app")!;
    for (let i = 0; i < 130; i++)
      r.comments.push({ id: 50_000 + i, issue: 1, body: `noise ${i}`, author: "alice", createdAt: "", updatedAt: "" });
    const c = await client.createComment(issue(1), "status <!-- forgehand:run=r9 -->");
    expect(c).toMatchObject({ author: "forgehand-bot", body: "status <!-- forgehand:run=r9 -->" });
    expect((await client.findCommentByMarker(issue(1), "<!-- forgehand:run=r9 -->"))?.id).toBe(c.id);
    expect(e.calls.filter((x) => x.path === "/repos/acme/app/issues/1/comments" && x.method === "GET").length).toBe(2);
    await client.updateComment(repo, c.id, "edited <!-- forgehand:run=r9 -->");
    const got = await client.getIssue(issue(1));
    expect(got).toMatchObject({ number: 1, title: "Crash", body: "boom", state: "open", isPr: false, labels: ["bug"] });
    expect(got.comments).toHaveLength(20);
    expect(got.comments.at(-1)?.body).toBe("edited <!-- forgehand:run=r9 -->");
    expect(await client.getRepository(repo)).toEqual({
      defaultBranch: "main",
      cloneUrl: `${e.url}/acme/app.git`,
      private: false,
    });
  });

  it("adds labels by name (creating unknown ones) and removes idempotently", async () => {
    const e = await setup();
    const client = pat(e);
    await client.addLabels(issue(1), ["agent:analyse"]);
    expect(e.state.repos.get("acme/app")?.issues.get(1)?.labels).toEqual(["bug", "agent:analyse"]);
    await client.removeLabel(issue(1), "agent:analyse");
    await client.removeLabel(issue(1), "agent:analyse");
    expect(e.state.repos.get("acme/app")?.issues.get(1)?.labels).toEqual(["bug"]);
    expect(e.calls.filter((x) => x.method === "DELETE").map((x) => x.status)).toEqual([200, 404]);
  });

  it("reacts to comments and finds-or-creates a pull request", async () => {
    const e = await setup();
    const client = pat(e);
    const c = await client.createComment(issue(1), "/stop");
    await client.addReaction(repo, c.id, "eyes");
    await client.addReaction(repo, c.id, "eyes");
    expect(e.state.repos.get("acme/app")?.reactions.map((x) => x.content)).toEqual(["eyes"]);
    const pr = { head: "forgehand/1-crash", base: "main", title: "Fix", body: "Closes #1" };
    const first = await client.findOrCreatePullRequest(repo, pr);
    expect(first).toMatchObject({ created: true, url: `${e.url}/acme/app/pull/${first.number}` });
    expect(await client.findOrCreatePullRequest(repo, pr)).toEqual({ ...first, created: false });
  });

  it("waits out a bare 429 with Retry-After (throttling off) and gives up after maxRetries", async () => {
    const e = await setup();
    const client = pat(e, { maxRetries: 1 });
    e.failNext("POST /repos/acme/app/issues/1/comments", { status: 429, retryAfter: 1 });
    const t0 = Date.now();
    await client.createComment(issue(1), "hi");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    e.failNext("GET /repos/acme/app", { status: 429, retryAfter: 0, times: 3 });
    await expect(client.getRepository(repo)).rejects.toMatchObject({ status: 429 });
    expect(e.calls.filter((x) => x.path === "/repos/acme/app").length).toBe(2);
  });

  it("retries a secondary rate limit (403 + Retry-After) through plugin-throttling", async () => {
    const e = await setup();
    const client = createGitHubClient({ apiUrl: e.apiUrl, token: "test-token" });
    e.failNext("GET /repos/acme/app", {
      status: 403,
      retryAfter: 1,
      message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    });
    e.failNext("GET /repos/acme/app/collaborators/*/permission", {
      status: 429,
      retryAfter: 1,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000)) },
    });
    expect((await client.getRepository(repo)).defaultBranch).toBe("main");
    expect(await client.getPermission(repo, "acme")).toBe("admin");
    expect(e.calls.map((x) => x.status)).toEqual([403, 200, 429, 200]);
  });

  it("throws only ForgeApiError, with the status and the wait the answer named", async () => {
    const e = await setup();
    const client = pat(e, { maxRetries: 0 });
    const missing = await client.getIssue(issue(99)).catch((x: unknown) => x);
    expect(missing).toBeInstanceOf(ForgeApiError);
    expect(missing).toMatchObject({ forge: "github", status: 404, transient: false, method: "GET" });
    e.failNext("GET /repos/acme/app", { status: 429, retryAfter: 5 });
    await expect(client.getRepository(repo)).rejects.toMatchObject({
      name: "ForgeApiError",
      status: 429,
      rateLimited: true,
      retryAfterMs: 5_000,
      transient: true,
    });
  });

  it("gives git credentials for the token", async () => {
    const e = await setup();
    const hosts = [new URL(e.apiUrl).origin];
    expect(pat(e).gitHosts).toEqual(hosts);
    expect(await pat(e).gitCredentials(repo)).toEqual({ username: "x-access-token", password: "test-token", hosts });
    expect(() => createGitHubClient({ apiUrl: e.apiUrl })).toThrow(/GITHUB_TOKEN/);
  });
});

describe("github client (App installation tokens)", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

  it("mints an installation token with the app JWT, caches it, and renews it shortly before expiry", async () => {
    const e = await setup({ id: 4242, publicKey, installations: [7], tokenTtlMs: 4000 });
    const client = createGitHubClient({
      apiUrl: e.apiUrl,
      appId: 4242,
      privateKey: pem,
      installationId: 7,
      throttle: false,
    });
    await client.createComment(issue(1), "one");
    await client.createComment(issue(1), "two");
    const mint = () => e.calls.filter((x) => x.path === "/app/installations/7/access_tokens");
    expect(mint().map((x) => x.status)).toEqual([201]);
    const creds = await client.gitCredentials(repo);
    expect(creds?.username).toBe("x-access-token");
    expect(creds?.password).toMatch(/^ghs_/);
    expect(e.state.repos.get("acme/app")?.comments.map((c) => c.author)).toEqual(["forgehand[bot]", "forgehand[bot]"]);
    // Within the last quarter of its lifetime the token is renewed before use.
    await new Promise((r) => setTimeout(r, 3200));
    await client.createComment(issue(1), "three");
    expect(mint()).toHaveLength(2);
    expect((await client.gitCredentials(repo))?.password).not.toBe(creds?.password);
    // The old token is expired on the forge side.
    await new Promise((r) => setTimeout(r, 900));
    const res = await fetch(`${e.apiUrl}/repos/acme/app`, { headers: { authorization: `token ${creds?.password}` } });
    expect(res.status).toBe(401);
  });

  it("tells onSecret every installation token it mints, before the token is used", async () => {
    const e = await setup({ id: 4242, publicKey, installations: [7] });
    const minted: string[] = [];
    const client = createGitHubClient({
      apiUrl: e.apiUrl,
      appId: 4242,
      privateKey: pem,
      installationId: 7,
      throttle: false,
      onSecret: (token) => minted.push(token),
    });
    const creds = await client.gitCredentials(repo);
    expect(minted).toEqual([creds?.password]);
    e.expireTokens();
    await client.getRepository(repo);
    expect(minted).toHaveLength(2);
    expect(minted[1]).toBe((await client.gitCredentials(repo))?.password);
  });

  it("renews a revoked token once on a 401", async () => {
    const e = await setup({ id: 4242, publicKey, installations: [7] });
    const client = createGitHubClient({
      apiUrl: e.apiUrl,
      appId: 4242,
      privateKey: pem,
      installationId: 7,
      throttle: false,
    });
    await client.getRepository(repo);
    e.expireTokens();
    await client.getRepository(repo);
    expect(e.calls.map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual([
      "POST /app/installations/7/access_tokens 201",
      "GET /repos/acme/app 200",
      "GET /repos/acme/app 401",
      "POST /app/installations/7/access_tokens 201",
      "GET /repos/acme/app 200",
    ]);
  });

  it("is refused with a JWT signed by the wrong key or for an unknown installation", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs1", format: "pem" })
      .toString();
    const e = await setup({ id: 4242, publicKey, installations: [7] });
    const wrongKey = createGitHubClient({
      apiUrl: e.apiUrl,
      appId: 4242,
      privateKey: other,
      installationId: 7,
      throttle: false,
    });
    await expect(wrongKey.getRepository(repo)).rejects.toMatchObject({ status: 401 });
    const wrongInst = createGitHubClient({
      apiUrl: e.apiUrl,
      appId: 4242,
      privateKey: pem,
      installationId: 8,
      throttle: false,
    });
    await expect(wrongInst.getRepository(repo)).rejects.toMatchObject({ status: 404 });
    expect(() => createGitHubClient({ apiUrl: e.apiUrl, appId: 4242, privateKey: pem })).toThrow(/installationId/);
    // Minting fails before any request: still a ForgeApiError (no status, not worth retrying).
    const badKey = createGitHubClient({ apiUrl: e.apiUrl, appId: 4242, privateKey: "not a key", installationId: 7 });
    await expect(badKey.gitCredentials(repo)).rejects.toMatchObject({
      name: "ForgeApiError",
      status: undefined,
      transient: false,
    });
  });
});
