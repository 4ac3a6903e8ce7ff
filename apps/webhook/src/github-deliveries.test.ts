import { issueKey } from "@forgehand/core";
import { commandJobIdFor, readStop, recordPrIssue, runIdFor, stopChannel } from "@forgehand/queue";
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testRedis } from "../../../test/helpers/redis";
import { BOT, githubDelivery, githubExample, type QueueProbe } from "./testing/delivery-fixtures";
import { openWebhookHarness } from "./testing/webhook-harness";

let app: Hono;
let probe: QueueProbe;
let plain: Redis;
let prefix: string;
let close: () => Promise<void>;

beforeEach(async () => {
  ({ app, probe, plain, prefix, close } = await openWebhookHarness("gh"));
});
afterEach(() => close());

/** Keys other than BullMQ's queue meta (written when a Queue object is created). */
const dataKeys = async () => (await plain.keys(`${prefix}:*`)).filter((k) => !k.endsWith(":meta"));
const post = (init: RequestInit) => app.request("/webhooks/github", init);
const ISSUE = "github:Codertocat/Hello-World";

function labeled(action: "labeled" | "unlabeled", label: string) {
  const p = githubExample("issues", action);
  (p.label as { name: string }).name = label;
  return p;
}

describe("GitHub deliveries", () => {
  it("issues.labeled with a stage label enqueues one stage job whose id is the run id", async () => {
    const p = labeled("labeled", "agent:analyse");
    const number = (p.issue as { number: number }).number;
    const res = await post(githubDelivery("issues", p, { id: "d-labeled-1" }));
    expect(res.status).toBe(202);
    const body = await res.json();
    const runId = runIdFor("github", "d-labeled-1", "analyse", `${ISSUE}#${number}`);
    expect(body).toEqual({ delivery: "d-labeled-1", jobs: [runId] });
    const jobs = await probe.stageJobs();
    expect(jobs.map((j) => [j.id, j.name])).toEqual([[runId, "stage"]]);
    const data = jobs[0]?.data;
    expect(data).toMatchObject({
      kind: "stage",
      runId,
      stage: "analyse",
      trigger: { kind: "label", by: "Codertocat", deliveryId: "d-labeled-1" },
      ref: { number, isPr: false, repo: { forge: "github", fullName: "Codertocat/Hello-World", owner: "Codertocat" } },
    });
    expect(jobs[0]?.opts.removeOnComplete).toEqual({ age: 7 * 24 * 3600 });
    expect(jobs[0]?.opts.removeOnFail).toEqual({ age: 7 * 24 * 3600 });
  });

  it("a stage job carries the issue title and body as the delivery showed them, capped", async () => {
    const p = labeled("labeled", "agent:analyse");
    const issue = p.issue as { title: string; body: string | null };
    issue.title = `T${"🤖".repeat(200)}`;
    issue.body = "b".repeat(70_000);
    expect((await post(githubDelivery("issues", p, { id: "d-snapshot" }))).status).toBe(202);
    const at = (await probe.stageJobs())[0]?.data.issueAtTrigger as { title: string; body: string };
    expect(at.body).toBe("b".repeat(65_536));
    // 256 UTF-16 units would end inside an emoji: the half surrogate is dropped.
    expect(at.title).toBe(`T${"🤖".repeat(127)}`);
  });

  it("the same delivery id twice answers duplicate and enqueues once", async () => {
    const init = () => githubDelivery("issues", labeled("labeled", "agent:analyse"), { id: "d-dup" });
    expect((await post(init())).status).toBe(202);
    const again = await post(init());
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ duplicate: true });
    expect(await probe.total()).toBe(1);
    expect(await plain.ttl(`${prefix}:delivery:github:d-dup`)).toBeGreaterThan(3 * 24 * 3600);
  });

  it("issues.labeled with a label that is no stage is ignored and writes nothing", async () => {
    const res = await post(githubDelivery("issues", labeled("labeled", "question")));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ignored: "label `question` is not a stage label" });
    expect(await probe.total()).toBe(0);
    expect(await dataKeys()).toEqual([]);
  });

  it("issues.unlabeled of a stage label persists and publishes a stop request", async () => {
    const p = labeled("unlabeled", "agent:develop");
    const number = (p.issue as { number: number }).number;
    const sub = testRedis();
    const messages: string[] = [];
    await sub.subscribe(stopChannel(prefix));
    sub.on("message", (_c, m) => messages.push(m));
    const res = await post(githubDelivery("issues", p));
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ jobs: [], stops: ["label_removed"] });
    // Scoped to the label's stage: an issue-wide flag would stop the issue's other stages too.
    expect(await readStop(plain, prefix, { issue: `${ISSUE}#${number}` })).toBeNull();
    const stop = await readStop(plain, prefix, { issue: `${ISSUE}#${number}`, stage: "develop" });
    expect(stop).toMatchObject({
      by: "Codertocat",
      reason: "label_removed",
      issue: `${ISSUE}#${number}`,
      stage: "develop",
    });
    for (let i = 0; i < 100 && messages.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.parse(messages[0] ?? "{}")).toMatchObject({ reason: "label_removed" });
    expect(await probe.total()).toBe(0);
    sub.disconnect();
  });

  it("issues.closed stops the issue's run", async () => {
    // The examples package has no issues.closed; a reopened payload with the action flipped is the same shape.
    const p = githubExample("issues", "reopened");
    p.action = "closed";
    (p.issue as { state: string }).state = "closed";
    const res = await post(githubDelivery("issues", p));
    expect(res.status).toBe(202);
    const key = issueKey({
      repo: { forge: "github", fullName: (p.repository as { full_name: string }).full_name },
      number: (p.issue as { number: number }).number,
    });
    expect(await readStop(plain, prefix, { issue: key })).toMatchObject({ reason: "issue_closed" });
  });

  it("pull_request.closed of a PR forgehand opened for an issue stops that issue's run too", async () => {
    const p = githubExample("pull_request", "closed");
    const fullName = (p.repository as { full_name: string }).full_name;
    const pr = (p.pull_request as { number: number }).number;
    const key = (number: number) => issueKey({ repo: { forge: "github", fullName }, number });
    // Without the mapping only the PR's own runs are stopped.
    expect(await readStop(plain, prefix, { issue: key(4242) })).toBeNull();
    await recordPrIssue(plain, prefix, key(pr), key(4242));
    const res = await post(githubDelivery("pull_request", p, { id: "d-pr-closed" }));
    expect(res.status).toBe(202);
    const merged = Boolean((p.pull_request as { merged?: boolean }).merged);
    const reason = merged ? "pr_merged" : "pr_closed";
    expect(await readStop(plain, prefix, { issue: key(pr) })).toMatchObject({ reason });
    expect(await readStop(plain, prefix, { issue: key(4242) })).toMatchObject({ reason, issue: key(4242) });
  });

  it("issue_comment.created with /stop on an issue becomes a command job (not executed here)", async () => {
    const p = githubExample("issue_comment", "created");
    (p.comment as { body: string }).body = "please\n/stop\n";
    const res = await post(githubDelivery("issue_comment", p, { id: "d-cmd" }));
    expect(res.status).toBe(202);
    expect(((await res.json()) as { jobs: string[] }).jobs).toEqual([
      commandJobIdFor("github", (p.repository as { full_name: string }).full_name, (p.comment as { id: number }).id),
    ]);
    const [job] = await probe.commandJobs();
    expect(job?.name).toBe("command");
    expect(job?.data).toMatchObject({
      kind: "command",
      commands: [{ name: "stop" }],
      commentId: (p.comment as { id: number }).id,
      ref: { isPr: false },
      sender: { login: "Codertocat" },
      deliveryId: "d-cmd",
    });
    expect(await readStop(plain, prefix, { issue: `${ISSUE}#1` })).toBeNull();
  });

  it("issue_comment.created on a PR marks the ref as a PR and carries the installation id", async () => {
    const p = githubExample("issue_comment", "created", 3);
    expect(p.installation).toBeDefined();
    (p.issue as Record<string, unknown>).pull_request = {
      url: "https://api.github.com/repos/o/r/pulls/1",
      html_url: "https://github.com/o/r/pull/1",
      diff_url: "https://github.com/o/r/pull/1.diff",
      patch_url: "https://github.com/o/r/pull/1.patch",
      merged_at: null,
    };
    (p.comment as { body: string }).body = "/run develop";
    const res = await post(githubDelivery("issue_comment", p));
    expect(res.status).toBe(202);
    const [job] = await probe.commandJobs();
    expect(job?.data.ref.isPr).toBe(true);
    expect(job?.data.ref.installationId).toBe((p.installation as { id: number }).id);
    expect(job?.data.commands).toEqual([{ name: "run", stage: "develop" }]);
  });

  it("a comment without commands, an edited comment and the bot's own comment are ignored", async () => {
    const plainComment = githubExample("issue_comment", "created");
    const edited = githubExample("issue_comment", "edited");
    (edited.comment as { body: string }).body = "/stop";
    const own = githubExample("issue_comment", "created");
    (own.comment as { body: string }).body = "/stop";
    (own.sender as { login: string; type: string }).login = BOT.github;
    (own.sender as { type: string }).type = "Bot";
    const otherBot = githubExample("issue_comment", "created");
    (otherBot.comment as { body: string }).body = "/stop";
    (otherBot.sender as { login: string; type: string }).login = "renovate[bot]";
    (otherBot.sender as { type: string }).type = "Bot";
    const answers = [];
    for (const p of [plainComment, edited, own, otherBot]) {
      const res = await post(githubDelivery("issue_comment", p));
      answers.push([res.status, ((await res.json()) as { ignored?: string }).ignored]);
    }
    expect(answers).toEqual([
      [200, "comment has no slash command"],
      [200, "issue_comment.edited routes nowhere"],
      [200, "comment by forgehand itself"],
      [200, "sender `renovate[bot]` is a bot"],
    ]);
    expect(await probe.total()).toBe(0);
  });

  it("a bot listed in commands.allowUsers is treated as a person", async () => {
    const p = githubExample("issue_comment", "created");
    (p.comment as { body: string }).body = "/status";
    Object.assign(p.sender as object, { login: "trusted-bot[bot]", type: "Bot" });
    const res = await post(githubDelivery("issue_comment", p));
    expect(res.status).toBe(202);
  });

  it("pull_request.opened routes nowhere", async () => {
    const res = await post(githubDelivery("pull_request", githubExample("pull_request", "opened")));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ignored: "pull_request.opened routes nowhere" });
  });

  it("pull_request.labeled with a stage label starts the stage on the PR", async () => {
    const p = githubExample("pull_request", "labeled");
    (p.label as { name: string }).name = "agent:develop";
    const res = await post(githubDelivery("pull_request", p));
    expect(res.status).toBe(202);
    const [job] = await probe.stageJobs();
    expect(job?.data).toMatchObject({
      stage: "develop",
      ref: { isPr: true, number: (p.pull_request as { number: number }).number },
    });
    expect(job?.data.ref.installationId).toBe((p.installation as { id: number }).id);
  });

  it("pull_request.closed stops with pr_closed, and a merged PR with pr_merged", async () => {
    const closed = githubExample("pull_request", "closed");
    const merged = githubExample("pull_request", "closed", 1);
    (merged.pull_request as { merged: boolean; number: number }).merged = true;
    (merged.pull_request as { number: number }).number = 4242;
    expect((await post(githubDelivery("pull_request", closed))).status).toBe(202);
    expect((await post(githubDelivery("pull_request", merged))).status).toBe(202);
    const full = (closed.repository as { full_name: string }).full_name;
    const n = (closed.pull_request as { number: number }).number;
    expect(await readStop(plain, prefix, { issue: `github:${full}#${n}` })).toMatchObject({ reason: "pr_closed" });
    expect(await readStop(plain, prefix, { issue: `github:${full}#4242` })).toMatchObject({ reason: "pr_merged" });
  });

  it("the bot's own stage label addition chains the next stage; its removal sends no stop", async () => {
    const add = labeled("labeled", "agent:develop");
    Object.assign(add.sender as object, { login: BOT.github, type: "Bot" });
    const remove = labeled("unlabeled", "agent:analyse");
    Object.assign(remove.sender as object, { login: BOT.github, type: "Bot" });
    expect((await post(githubDelivery("issues", remove))).status).toBe(200);
    expect((await post(githubDelivery("issues", add))).status).toBe(202);
    const [job] = await probe.stageJobs();
    expect(job?.data).toMatchObject({ stage: "develop", trigger: { by: BOT.github } });
    expect(await plain.keys(`${prefix}:stop:*`)).toEqual([]);
  });

  it("ping answers 200 ignored without touching Redis", async () => {
    const res = await post(githubDelivery("ping", githubExample("ping")));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ignored: "ping" });
    expect(await dataKeys()).toEqual([]);
  });

  it("form-encoded deliveries are verified over the wire bytes and accepted", async () => {
    const res = await post(githubDelivery("issues", labeled("labeled", "agent:analyse"), { form: true }));
    expect(res.status).toBe(202);
    expect(await probe.total()).toBe(1);
  });
});
