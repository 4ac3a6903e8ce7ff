import type { IssueRef, RepoRef } from "@forgehand/core";
import { createLogger } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import { ForgeApiError } from "./forge-api-error";
import { createGiteaClient } from "./gitea-client";

const repo: RepoRef = { forge: "gitea", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
const issue = (number: number): IssueRef => ({ repo, number, isPr: false });

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function setup(gitea?: { labelNames?: boolean; maxItems?: number }) {
  emu = await startForgeEmulator({ flavour: "gitea", gitea });
  emu.addRepo("acme/app", { labels: ["bug", "agent:analyse", "agent:develop"] });
  emu.setPermission("acme/app", "forgehand-bot", "admin");
  emu.addIssue("acme/app", { number: 1, title: "Crash on start", body: "It crashes", labels: ["bug"] });
  const lines: string[] = [];
  const logger = createLogger({ level: "warn", format: "json", write: (l) => lines.push(l) });
  const client = createGiteaClient({ url: emu.url, token: "test-token", botLogin: "forgehand-bot", logger });
  return { emu, client, lines };
}

describe("gitea client", () => {
  it("maps every access mode from the permission endpoint (owner → admin, unknown user → none)", async () => {
    const { emu, client } = await setup();
    for (const role of ["owner", "admin", "write", "read", "none"] as const)
      emu.setPermission("acme/app", `u-${role}`, role);
    emu.setPermission("acme/app", "u-maintain", "maintain");
    expect(await client.getPermission(repo, "u-owner")).toBe("admin");
    expect(await client.getPermission(repo, "u-admin")).toBe("admin");
    expect(await client.getPermission(repo, "u-write")).toBe("write");
    expect(await client.getPermission(repo, "u-maintain")).toBe("write");
    expect(await client.getPermission(repo, "u-read")).toBe("read");
    expect(await client.getPermission(repo, "u-none")).toBe("none");
    expect(await client.getPermission(repo, "ghost")).toBe("none");
  });

  it("treats a 403 from the permission endpoint (bot not repo admin) as none and logs the fix", async () => {
    const { emu, client, lines } = await setup();
    emu.setPermission("acme/app", "forgehand-bot", "write");
    emu.setPermission("acme/app", "alice", "admin");
    expect(await client.getPermission(repo, "alice")).toBe("none");
    expect(emu.calls.at(-1)?.status).toBe(403);
    expect(lines.join("\n")).toMatch(/give the bot account Admin/);
  });

  it("creates, finds by marker and edits comments, and reads the issue with its comments", async () => {
    const { emu, client } = await setup();
    await client.createComment(issue(1), "hello");
    const c = await client.createComment(issue(1), "status <!-- forgehand:run=r1 -->");
    expect((await client.findCommentByMarker(issue(1), "<!-- forgehand:run=r1 -->"))?.id).toBe(c.id);
    expect(await client.findCommentByMarker(issue(1), "<!-- forgehand:run=r2 -->")).toBeNull();
    await client.updateComment(repo, c.id, "edited <!-- forgehand:run=r1 -->");
    const got = await client.getIssue(issue(1));
    expect(got).toMatchObject({
      number: 1,
      title: "Crash on start",
      body: "It crashes",
      state: "open",
      isPr: false,
      labels: ["bug"],
    });
    expect(got.comments.map((x) => x.body)).toEqual(["hello", "edited <!-- forgehand:run=r1 -->"]);
    expect(got.comments[0]?.author).toBe("forgehand-bot");
    expect(emu.state.repos.get("acme/app")?.comments.find((x) => x.id === c.id)?.body).toMatch(/^edited/);
    expect(await client.getRepository(repo)).toEqual({
      defaultBranch: "main",
      cloneUrl: `${emu.url}/acme/app.git`,
      private: false,
    });
  });

  it("adds labels by name and removes them by id, resolving ids over paginated label lists", async () => {
    const { emu, client } = await setup({ maxItems: 2 });
    for (let i = 0; i < 7; i++) emu.addIssue("acme/app", { number: 100 + i });
    const r = emu.state.repos.get("acme/app")!;
    for (let i = 0; i < 5; i++) r.labels.push({ id: 9000 + i, name: `filler-${i}`, color: "000000", description: "" });
    r.labels.push({ id: 9999, name: "agent:last", color: "000000", description: "" });
    await client.addLabels(issue(1), ["agent:analyse", "agent:last"]);
    expect(r.issues.get(1)?.labels).toEqual(["bug", "agent:analyse", "agent:last"]);
    await client.removeLabel(issue(1), "agent:last");
    expect(r.issues.get(1)?.labels).toEqual(["bug", "agent:analyse"]);
    const deletes = emu.calls.filter((c) => c.method === "DELETE");
    expect(deletes.map((c) => c.path)).toEqual(["/repos/acme/app/issues/1/labels/9999"]);
    // limit was capped at 2 by the server, so several pages were read.
    expect(emu.calls.filter((c) => c.path === "/repos/acme/app/labels" && c.method === "GET").length).toBeGreaterThan(
      3,
    );
    await client.removeLabel(issue(1), "not-a-label");
    expect(r.issues.get(1)?.labels).toEqual(["bug", "agent:analyse"]);
  });

  it("falls back to label ids on a Gitea without name support, and creates labels that do not exist", async () => {
    const { emu, client } = await setup({ labelNames: false });
    await client.addLabels(issue(1), ["agent:develop", "forgehand:failed"]);
    const r = emu.state.repos.get("acme/app")!;
    expect(r.issues.get(1)?.labels).toEqual(["bug", "agent:develop", "forgehand:failed"]);
    const posts = emu.calls.filter((c) => c.method === "POST" && c.path === "/repos/acme/app/issues/1/labels");
    expect(posts.map((c) => c.status)).toEqual([422, 200]);
    expect((posts[1]!.body as { labels: unknown[] }).labels.every((l) => typeof l === "number")).toBe(true);
  });

  it("refreshes a stale label id (label recreated) when removing", async () => {
    const { emu, client } = await setup();
    const r = emu.state.repos.get("acme/app")!;
    await client.addLabels(issue(1), ["agent:analyse"]);
    await client.removeLabel(issue(1), "agent:analyse"); // caches the id
    await client.addLabels(issue(1), ["agent:analyse"]);
    const label = r.labels.find((l) => l.name === "agent:analyse")!;
    label.id = 77777; // deleted and recreated under a new id
    await client.removeLabel(issue(1), "agent:analyse");
    expect(r.issues.get(1)?.labels).toEqual(["bug"]);
    const deletes = emu.calls.filter((c) => c.method === "DELETE").map((c) => c.status);
    expect(deletes).toEqual([204, 422, 204]);
  });

  it("adds reactions (idempotently) to comments", async () => {
    const { emu, client } = await setup();
    const c = await client.createComment(issue(1), "/stop");
    await client.addReaction(repo, c.id, "eyes");
    await client.addReaction(repo, c.id, "eyes");
    await client.addReaction(repo, c.id, "+1");
    expect(emu.state.repos.get("acme/app")?.reactions.map((x) => x.content)).toEqual(["eyes", "+1"]);
  });

  it("finds the existing PR on a 409 and opens a new one when the old one is closed", async () => {
    const { emu, client } = await setup();
    const pr = { head: "forgehand/1-crash", base: "main", title: "Fix crash", body: "Closes #1" };
    const first = await client.findOrCreatePullRequest(repo, pr);
    expect(first).toMatchObject({ created: true, url: `${emu.url}/acme/app/pulls/${first.number}` });
    const again = await client.findOrCreatePullRequest(repo, pr);
    expect(again).toEqual({ ...first, created: false });
    expect(emu.calls.some((c) => c.status === 409)).toBe(true);
    expect(emu.calls.some((c) => c.path === "/repos/acme/app/pulls/main/forgehand/1-crash" && c.status === 200)).toBe(
      true,
    );
    emu.state.repos.get("acme/app")!.pulls[0]!.state = "closed";
    const third = await client.findOrCreatePullRequest(repo, pr);
    expect(third.created).toBe(true);
    expect(third.number).not.toBe(first.number);
  });

  it("waits out a 429 with Retry-After and a 403 rate limit, then succeeds", async () => {
    const { emu, client } = await setup();
    emu.failNext("POST /repos/acme/app/issues/1/comments", { status: 429, retryAfter: 1 });
    emu.failNext("PATCH /repos/acme/app/issues/comments/*", { status: 403, retryAfter: 1 });
    const t0 = Date.now();
    const c = await client.createComment(issue(1), "hi");
    await client.updateComment(repo, c.id, "hi again");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(emu.calls.map((x) => `${x.method} ${x.status}`)).toEqual(["POST 429", "POST 201", "PATCH 403", "PATCH 200"]);
  });

  it("gives up after its retries with a clear, prefixed error", async () => {
    const { emu } = await setup();
    const client = createGiteaClient({ url: emu.url, token: "test-token", maxRetries: 1 });
    emu.failNext("POST /repos/acme/app/issues/1/comments", { status: 429, retryAfter: 0, times: 5 });
    await expect(client.createComment(issue(1), "x")).rejects.toMatchObject({
      status: 429,
      message: expect.stringMatching(/^\[forge\] gitea POST .* answered 429/),
    });
    expect(emu.calls.length).toBe(2);
  });

  it("throws only ForgeApiError: an error answer, a non-JSON answer and an unreachable forge", async () => {
    const { emu } = await setup();
    const client = createGiteaClient({ url: emu.url, token: "test-token", maxRetries: 0 });
    emu.failNext("GET /repos/acme/app", { status: 503, retryAfter: 3 });
    const down = await client.getRepository(repo).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ForgeApiError);
    expect(down).toMatchObject({ status: 503, retryAfterMs: 3_000, transient: true, rateLimited: false });
    const garbled = createGiteaClient({
      url: emu.url,
      token: "t",
      maxRetries: 0,
      fetch: async () => new Response("<html>proxy</html>", { status: 200 }),
    });
    await expect(garbled.getRepository(repo)).rejects.toMatchObject({
      name: "ForgeApiError",
      status: 200,
      transient: false,
      message: expect.stringMatching(/answered 200 with non-JSON/),
    });
    const offline = createGiteaClient({ url: "http://127.0.0.1:9", token: "t", maxRetries: 0 });
    const unreachable = await offline.getIssue(issue(1)).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(ForgeApiError);
    expect(unreachable).toMatchObject({ status: undefined, transient: true, method: "GET" });
  });

  it("rejects a bad token and a non-http URL", async () => {
    const { emu } = await setup();
    const bad = createGiteaClient({ url: emu.url, token: "nope" });
    await expect(bad.getRepository(repo)).rejects.toMatchObject({ status: 401 });
    expect(() => createGiteaClient({ url: "gitea.local", token: "t" })).toThrow(/Expected GITEA_URL.*"gitea.local"/);
  });

  it("gives git credentials as the bot login and token", async () => {
    const { client, emu } = await setup();
    const hosts = [new URL(emu.url).origin];
    expect(client.gitHosts).toEqual(hosts);
    expect(await client.gitCredentials(repo)).toEqual({ username: "forgehand-bot", password: "test-token", hosts });
    const anon = createGiteaClient({ url: "http://x/api/v1", token: "t" });
    expect(await anon.gitCredentials(repo)).toEqual({ username: "forgehand", password: "t", hosts: ["http://x"] });
  });
});
