import { describe, expect, it } from "vitest";
import { GITHUB_SECRET, giteaDelivery, giteaFixture, githubDelivery } from "./testing/delivery-fixtures";
import { commentPayload as comment, labeledPayload as labeled, useHostileCorpus } from "./testing/hostile-corpus";
import { signPayload } from "./verify-signature";

// Every delivery here must be refused (4xx) or ignored (200 + "ignored"); none may enqueue,
// write a stop flag, mark a delivery id or crash the process.

const { send, request } = useHostileCorpus("hostile");
const goodBody = JSON.stringify(labeled("agent:analyse"));
const goodSig = `sha256=${signPayload(GITHUB_SECRET, goodBody)}`;

describe("hostile corpus", () => {
  it.each([
    ["no signature", { signature: null }, 401],
    ["empty signature", { signature: "" }, 401],
    ["bare sha256= prefix", { signature: "sha256=" }, 401],
    ["truncated signature", { signature: goodSig.slice(0, -1) }, 401],
    ["signature one char off", { signature: `${goodSig.slice(0, -1)}${goodSig.endsWith("0") ? "1" : "0"}` }, 401],
    ["signature with the wrong secret", { secret: "not the secret" }, 401],
    ["sha1 signature in the sha256 header", { signature: "sha1=0123456789abcdef0123456789abcdef01234567" }, 401],
    ["signature with trailing junk", { signature: `${goodSig}00` }, 401],
    ["non-hex signature", { signature: `sha256=${"z".repeat(64)}` }, 401],
    ["text/plain content type", { contentType: "text/plain" }, 400],
    ["multipart content type", { contentType: "multipart/form-data; boundary=x" }, 400],
    ["xml content type", { contentType: "application/xml" }, 400],
    ["empty content type", { contentType: "" }, 400],
  ] as const)("%s → %i", async (_name, options, status) => {
    const res = await send(githubDelivery("issues", goodBody, options));
    expect(res.status).toBe(status);
    expect(String(res.body.error)).toMatch(/^\[webhook\]/);
  });

  it.each([
    ["missing event header", "x-github-event"],
    ["missing delivery header", "x-github-delivery"],
  ])("%s → 400", async (_name, header) => {
    const init = githubDelivery("issues", goodBody);
    delete (init.headers as Record<string, string>)[header];
    expect((await send(init)).status).toBe(400);
  });

  it.each([
    ["delivery id with spaces", { id: "a b c" }],
    ["delivery id with a colon", { id: "x:y" }],
    ["delivery id of 500 chars", { id: "a".repeat(500) }],
  ])("%s → 400", async (_name, options) => {
    expect((await send(githubDelivery("issues", goodBody, options))).status).toBe(400);
  });

  it("event header that is not an event name → 400", async () => {
    const init = githubDelivery("issues", goodBody);
    (init.headers as Record<string, string>)["x-github-event"] = "issues; DROP";
    expect((await send(init)).status).toBe(400);
  });

  it.each([
    ["truncated JSON", '{"action":"labeled","issue":'],
    ["trailing garbage", `${goodBody}}`],
    ["single quotes", "{'action':'labeled'}"],
    ["empty object brace only", "{"],
    ["lone surrogate escape in a broken doc", '{"a":"\\ud800'],
  ])("correctly signed but broken JSON (%s) → 400", async (_name, body) => {
    const res = await send(githubDelivery("issues", body));
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(/not valid JSON/);
  });

  it.each([["[]"], ["null"], ['"string"'], ["42"], ["true"], [""]])("non-object JSON %j → 400", async (body) => {
    expect((await send(githubDelivery("issues", body))).status).toBe(400);
  });

  it.each([
    ["form without payload=", "nothing=here"],
    ["form payload that is not JSON", "payload=hello"],
    ["form payload that is an array", "payload=%5B%5D"],
  ])("%s → 400", async (_name, body) => {
    const init: RequestInit = {
      method: "POST",
      body,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-github-event": "issues",
        "x-github-delivery": "form-1",
        "x-hub-signature-256": `sha256=${signPayload(GITHUB_SECRET, body)}`,
      },
    };
    expect((await send(init)).status).toBe(400);
  });

  it.each([
    ["missing repository", (p: Record<string, unknown>) => delete p.repository],
    ["repository is a string", (p: Record<string, unknown>) => (p.repository = "owner/name")],
    ["missing issue", (p: Record<string, unknown>) => delete p.issue],
    ["issue number negative", (p: Record<string, unknown>) => ((p.issue as { number: number }).number = -1)],
    ["issue number a string", (p: Record<string, unknown>) => ((p.issue as { number: unknown }).number = "1")],
    ["labels not an array", (p: Record<string, unknown>) => ((p.issue as { labels: unknown }).labels = "bug")],
  ])("signed issues payload with %s → 400 naming the field", async (_name, mutate) => {
    const p = labeled("agent:analyse");
    mutate(p);
    const res = await send(githubDelivery("issues", p));
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(/payload/);
  });

  it("a 26 MiB body streamed without Content-Length → 413, read no further than the limit", async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled++ >= 26) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await send({
      method: "POST",
      body: stream,
      headers: {
        "content-type": "application/json",
        "x-github-event": "issues",
        "x-github-delivery": "big-1",
        "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
      },
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(27);
  });

  it("a declared Content-Length over 25 MiB → 413 before reading", async () => {
    const init = githubDelivery("issues", goodBody);
    (init.headers as Record<string, string>)["content-length"] = String(26 * 1024 * 1024);
    expect((await send(init)).status).toBe(413);
  });

  it.each([
    ["fenced code block", "```\n/stop\n```"],
    ["tilde fence", "~~~sh\n/run develop\n~~~"],
    ["quote", "> /stop\n> please"],
    ["nested quote", ">> /retry"],
    ["inline code", "run `/stop` to stop"],
    ["path", "/usr/bin/env is broken"],
    ["other bot's command", "/cc @someone\n/lgtm"],
    ["command mid-line", "please /stop now"],
    ["65k chars, command inside a fence", `\`\`\`\n${"x".repeat(65_000)}\n/stop\n\`\`\``],
    ["65k chars of emoji, no command", "🤖".repeat(32_000)],
    ["HTML comment", "<!--\n/stop\n-->"],
    ["unterminated HTML comment", "looks fine\n<!--\n/run develop"],
    ["image alt attribute", '<img src="x.png" alt="\n/stop\n">'],
    ["link title", '[docs](https://x.test "\n/retry\n")'],
    ["Unicode tag characters", [..."/stop"].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join("")],
  ])("comment with no live command (%s) is ignored", async (_name, body) => {
    const res = await send(githubDelivery("issue_comment", comment(body)));
    expect(res.status).toBe(200);
    expect(res.body.ignored).toBe("comment has no slash command");
  });

  it.each([
    ["🔥 hot"],
    ["agent:analyse "],
    ["AGENT:ANALYSE"],
    ["agent:analyse\n"],
    ["ünïcode"],
    ["a".repeat(300)],
    // Looks like the stage label on the forge; is not it.
    ["agent:ana\u200Blyse"],
    ["\u202Eesylana:tnega"],
  ])("label %j that is no stage label is ignored", async (name) => {
    const res = await send(githubDelivery("issues", labeled(name)));
    expect(res.status).toBe(200);
    expect(String(res.body.ignored)).toMatch(/is not a stage label/);
  });

  it("unknown events and actions are ignored without validating their payloads", async () => {
    for (const [event, body] of [
      ["push", "{}"],
      ["installation", '{"action":"created"}'],
      ["issues", JSON.stringify({ ...labeled("agent:analyse"), action: "assigned" })],
      ["star", '{"weird":[1,2,3]}'],
    ] as const) {
      const res = await send(githubDelivery(event, body));
      expect(res.status).toBe(200);
      expect(res.body.ignored).toMatch(/routes nowhere/);
    }
  });

  it("GET on a webhook route is not a delivery", async () => {
    expect((await request("/webhooks/gitea?payload=%7B%7D")).status).toBe(404);
  });

  it("Gitea: unsigned, wrongly signed and GitHub-only-header deliveries are refused", async () => {
    const bytes = giteaFixture("issues.label_updated.json");
    expect((await send(giteaDelivery("issues", bytes, { signature: null }), "/webhooks/gitea")).status).toBe(401);
    expect((await send(giteaDelivery("issues", bytes, { secret: "nope" }), "/webhooks/gitea")).status).toBe(401);
    const ghOnly = githubDelivery("issues", bytes.toString());
    expect((await send(ghOnly, "/webhooks/gitea")).status).toBe(400);
  });
});
