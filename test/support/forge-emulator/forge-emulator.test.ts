import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { verify } from "@octokit/webhooks-methods";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "./index";

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function receiver() {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, raw: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

async function start(flavour: "github" | "gitea" | "forgejo", url: string): Promise<ForgeEmulator> {
  const emu = await startForgeEmulator({ flavour, webhooks: { url, secret: "s3cret" } });
  closers.push(() => emu.close());
  emu.addRepo("acme/app", { labels: ["agent:analyse"] });
  emu.addIssue("acme/app", { number: 1, title: "T" });
  return emu;
}

const api = (emu: ForgeEmulator, method: string, path: string, body?: unknown) =>
  fetch(`${emu.apiUrl}${path}`, {
    method,
    headers: { authorization: "token test-token", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("forge emulator webhooks", () => {
  it("GitHub: signs issues.labeled/unlabeled, issue_comment.created and pull_request.opened from API writes", async () => {
    const r = await receiver();
    const emu = await start("github", r.url);
    expect((await api(emu, "POST", "/repos/acme/app/issues/1/labels", { labels: ["agent:analyse"] })).status).toBe(200);
    expect((await api(emu, "DELETE", "/repos/acme/app/issues/1/labels/agent%3Aanalyse")).status).toBe(200);
    expect((await api(emu, "POST", "/repos/acme/app/issues/1/comments", { body: "hi" })).status).toBe(201);
    expect((await api(emu, "POST", "/repos/acme/app/pulls", { title: "P", head: "b", base: "main" })).status).toBe(201);
    await emu.deliveriesSettled();
    expect(r.got.map((g) => `${g.headers["x-github-event"]}.${JSON.parse(g.raw).action}`)).toEqual([
      "issues.labeled",
      "issues.unlabeled",
      "issue_comment.created",
      "pull_request.opened",
    ]);
    for (const g of r.got) {
      expect(await verify("s3cret", g.raw, g.headers["x-hub-signature-256"] as string)).toBe(true);
      expect(g.headers["x-github-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
    }
    const labeled = JSON.parse(r.got[0]!.raw);
    expect(labeled.label.name).toBe("agent:analyse");
    expect(labeled.sender.login).toBe("forgehand-bot");
    expect(labeled.repository.full_name).toBe("acme/app");
    expect(labeled.issue.labels.map((l: { name: string }) => l.name)).toEqual(["agent:analyse"]);
    expect(emu.deliveries.map((d) => d.status)).toEqual([202, 202, 202, 202]);
  });

  it("Gitea/Forgejo: pretty-printed payloads, X-Gitea-* headers with GitHub copies, label_updated without the label", async () => {
    for (const flavour of ["gitea", "forgejo"] as const) {
      const r = await receiver();
      const emu = await start(flavour, r.url);
      const id = emu.state.repos.get("acme/app")!.labels[0]!.id;
      await api(emu, "POST", "/repos/acme/app/issues/1/labels", { labels: [id] });
      const { commentId } = emu.commentAsUser("acme/app", 1, "alice", "/stop");
      await emu.deliveriesSettled();
      expect(r.got).toHaveLength(2);
      const [label, comment] = r.got as [Received, Received];
      expect(label.headers["x-gitea-event"]).toBe("issues");
      expect(label.headers["x-gitea-event-type"]).toBe("issue_label");
      expect(label.headers["x-github-event"]).toBe("issues");
      expect(label.raw).toContain('\n  "action": "label_updated"');
      const hex = createHmac("sha256", "s3cret").update(label.raw).digest("hex");
      expect(label.headers["x-gitea-signature"]).toBe(hex);
      expect(label.headers["x-hub-signature-256"]).toBe(`sha256=${hex}`);
      expect(JSON.parse(label.raw).label).toBeUndefined();
      expect(JSON.parse(label.raw).issue.labels[0].name).toBe("agent:analyse");
      expect(Boolean(label.headers["x-forgejo-event"])).toBe(flavour === "forgejo");
      const c = JSON.parse(comment.raw);
      expect(comment.headers["x-gitea-event"]).toBe("issue_comment");
      expect(c).toMatchObject({
        action: "created",
        is_pull: false,
        comment: { id: commentId, body: "/stop", user: { login: "alice" } },
      });
    }
  });

  it("deliver() sends arbitrary signed deliveries; failNext() answers with the given status and Retry-After", async () => {
    const r = await receiver();
    const emu = await start("github", r.url);
    emu.deliver("ping", { zen: "Keep it logically awesome." });
    await emu.deliveriesSettled();
    expect(r.got[0]?.headers["x-github-event"]).toBe("ping");
    emu.failNext("GET /repos/*/app", { status: 429, retryAfter: 7 });
    const res = await api(emu, "GET", "/repos/acme/app");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await api(emu, "GET", "/repos/acme/app")).status).toBe(200);
    expect((await fetch(`${emu.apiUrl}/repos/acme/app`)).status).toBe(401);
  });
});

describe("forge emulator identity and author_association", () => {
  it("GET /user names the token's account on GitHub and Gitea", async () => {
    const r = await receiver();
    for (const flavour of ["github", "gitea"] as const) {
      const emu = await start(flavour, r.url);
      const res = await api(emu, "GET", "/user");
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ login: "forgehand-bot" });
      const bad = await fetch(`${emu.apiUrl}/user`, { headers: { authorization: "token nope" } });
      expect(bad.status).toBe(401);
    }
  });

  it("GitHub: author_association follows the roles the emulator holds", async () => {
    const r = await receiver();
    const emu = await start("github", r.url);
    emu.setPermission("acme/app", "alice", "write");
    emu.setPermission("acme/app", "rita", "read");
    emu.setPermission("acme/app", "nobody", "none");
    for (const login of ["acme", "alice", "rita", "nobody", "stranger"]) emu.commentAsUser("acme/app", 1, login, "hi");
    await emu.deliveriesSettled();
    const res = await api(emu, "GET", "/repos/acme/app/issues/1/comments");
    const byUser = Object.fromEntries(
      ((await res.json()) as { user: { login: string }; author_association: string }[]).map((c) => [
        c.user.login,
        c.author_association,
      ]),
    );
    expect(byUser).toEqual({
      acme: "OWNER",
      alice: "COLLABORATOR",
      rita: "COLLABORATOR",
      nobody: "NONE",
      stranger: "NONE",
    });
    const delivered = r.got.map((g) => JSON.parse(g.raw).comment?.author_association);
    expect(delivered).toEqual(["OWNER", "COLLABORATOR", "COLLABORATOR", "NONE", "NONE"]);
  });
});
