import { decodeLabelSet, labelSetKey, readStop, runIdFor } from "@forgehand/queue";
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "./create-app";
import {
  BOT,
  GITEA_SECRET,
  giteaDelivery,
  giteaFixture,
  giteaJson,
  type QueueProbe,
} from "./testing/delivery-fixtures";
import { openWebhookHarness } from "./testing/webhook-harness";
import { signPayload } from "./verify-signature";
import type { WebhookDeps } from "./webhook-deps";

let deps: WebhookDeps;
let app: Hono;
let probe: QueueProbe;
let plain: Redis;
let prefix: string;
let close: () => Promise<void>;

beforeEach(async () => {
  ({ deps, app, probe, plain, prefix, close } = await openWebhookHarness("gitea"));
});
afterEach(() => close());

const post = (init: RequestInit, path = "/webhooks/gitea") => app.request(path, init);
const ISSUE1 = "gitea:example/example#1";
type Json = Record<string, unknown>;
const labelDelivery = (labels: string[], o: { sender?: string; action?: string } = {}) => {
  const p = JSON.parse(giteaFixture("issues.label_updated.json").toString()) as Json;
  (p.issue as Json).labels = labels.map((name, i) => ({ id: i + 1, name, color: "ee0701", description: "", url: "" }));
  if (o.sender) Object.assign(p.sender as Json, { login: o.sender, username: o.sender });
  if (o.action) p.action = o.action;
  return giteaDelivery("issues", giteaJson(p), { eventType: "issue_label" });
};
const storedSet = async (issue = ISSUE1) => decodeLabelSet(await plain.get(labelSetKey(prefix, issue)));

describe("Gitea deliveries (real payloads, signed byte-for-byte)", () => {
  it("label_updated, first sighting: a stage label present counts as added", async () => {
    const res = await post(
      giteaDelivery("issues", giteaFixture("issues.label_updated.json"), { id: "g-1", eventType: "issue_label" }),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ delivery: "g-1", jobs: [runIdFor("gitea", "g-1", "triage", ISSUE1)] });
    const [job] = await probe.stageJobs();
    expect(job?.data).toMatchObject({
      stage: "triage",
      ref: {
        number: 1,
        isPr: false,
        repo: {
          forge: "gitea",
          fullName: "example/example",
          owner: "example",
          cloneUrl: "http://localhost:3000/example/example.git",
          defaultBranch: "master",
        },
      },
      trigger: { kind: "label", by: "example", deliveryId: "g-1" },
    });
    expect(await storedSet()).toEqual(["bug"]);
  });

  it("a Replay (new delivery id, same labels) is ignored; the same id is a duplicate", async () => {
    const bytes = giteaFixture("issues.label_updated.json");
    expect((await post(giteaDelivery("issues", bytes, { id: "g-a", eventType: "issue_label" }))).status).toBe(202);
    const replay = await post(giteaDelivery("issues", bytes, { id: "g-b", eventType: "issue_label" }));
    expect(await replay.json()).toEqual({ ignored: "no stage label changed" });
    const dup = await post(giteaDelivery("issues", bytes, { id: "g-a", eventType: "issue_label" }));
    expect(dup.status).toBe(200);
    expect(await dup.json()).toEqual({ duplicate: true });
    expect(await probe.total()).toBe(1);
  });

  it("diffs label sets: add, swap (stop + start), remove, clear", async () => {
    expect((await post(labelDelivery(["agent:analyse", "docs"]))).status).toBe(202);
    expect(await storedSet()).toEqual(["agent:analyse"]);
    // Unrelated label change: nothing routed, nothing written.
    const unrelated = await post(labelDelivery(["agent:analyse", "docs", "wontfix"]));
    expect(await unrelated.json()).toEqual({ ignored: "no stage label changed" });
    const swap = await post(labelDelivery(["agent:develop"]));
    expect(swap.status).toBe(202);
    expect(await swap.json()).toMatchObject({ stops: ["label_removed"] });
    const jobs = await probe.stageJobs();
    expect(jobs.map((j) => j.data.stage).sort()).toEqual(["analyse", "develop"]);
    // The swap stops only the removed label's stage, never the one it starts.
    expect(await readStop(plain, prefix, { issue: ISSUE1, stage: "develop" })).toBeNull();
    const stop = await readStop(plain, prefix, { issue: ISSUE1, stage: "analyse" });
    expect(stop).toMatchObject({ stage: "analyse" });
    const develop = jobs.find((j) => j.data.stage === "develop");
    // The stop of the same delivery must not cancel the job it started.
    expect(develop?.data.requestedAt).toBeGreaterThan(stop?.at ?? Number.POSITIVE_INFINITY);
    expect(await storedSet()).toEqual(["agent:develop"]);
    const cleared = await post(labelDelivery(["agent:develop"], { action: "label_cleared" }));
    expect(cleared.status).toBe(202);
    expect(await readStop(plain, prefix, { issue: ISSUE1, stage: "develop" })).toMatchObject({
      reason: "label_removed",
      by: "example",
      stage: "develop",
    });
    expect(await storedSet()).toEqual([]);
  });

  it("the bot's own label changes keep the stored set right: removal sends no stop, addition chains", async () => {
    expect((await post(labelDelivery(["agent:analyse"]))).status).toBe(202);
    const removed = await post(labelDelivery([], { sender: BOT.gitea }));
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ ignored: "stage label removed by forgehand itself" });
    expect(await storedSet()).toEqual([]);
    expect(await readStop(plain, prefix, { issue: ISSUE1 })).toBeNull();
    const added = await post(labelDelivery(["agent:develop"], { sender: BOT.gitea }));
    expect(added.status).toBe(202);
    expect((await probe.stageJobs()).map((j) => j.data.stage).sort()).toEqual(["analyse", "develop"]);
  });

  it("form mode: the signature covers the decoded payload, not the wire body", async () => {
    const bytes = giteaFixture("issues.label_updated.json");
    expect((await post(giteaDelivery("issues", bytes, { form: true, eventType: "issue_label" }))).status).toBe(202);
    const wire = new URLSearchParams({ payload: bytes.toString() }).toString();
    const wrong = giteaDelivery("issues", bytes, { form: true, signature: signPayload(GITEA_SECRET, wire) });
    expect((await post(wrong)).status).toBe(401);
  });

  it("Forgejo headers are recognised first and the job names the gitea API", async () => {
    const res = await post(
      giteaDelivery("issues", giteaFixture("issues.label_updated.json"), { flavour: "forgejo", id: "fj-1" }),
    );
    expect(res.status).toBe(202);
    const [job] = await probe.stageJobs();
    expect(job?.data.ref.repo.forge).toBe("gitea");
  });

  it("a Gitea delivery posted to the GitHub route is refused with a hint", async () => {
    const res = await post(giteaDelivery("issues", giteaFixture("issues.label_updated.json")), "/webhooks/github");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/\/webhooks\/gitea/);
  });

  it("signature only in X-Hub-Signature-256 is accepted; empty Gitea headers (no secret on the hook) are 401", async () => {
    const bytes = giteaFixture("issues.label_updated.json");
    const init = giteaDelivery("issues", bytes);
    const h = init.headers as Record<string, string>;
    delete h["x-gitea-signature"];
    expect((await post(init)).status).toBe(202);
    const unsigned = giteaDelivery("issues", bytes, { signature: "" });
    expect((await post(unsigned)).status).toBe(401);
    expect(await probe.total()).toBe(1);
  });

  it("issue_comment.created (real fixture) without a command is ignored; with /stop it is a command job", async () => {
    const bytes = giteaFixture("issue_comment.created.json");
    const res = await post(giteaDelivery("issue_comment", bytes));
    expect(await res.json()).toEqual({ ignored: "comment has no slash command" });
    const p = JSON.parse(bytes.toString()) as Json;
    (p.comment as Json).body = "> /retry in a quote is not a command\n/stop";
    expect((await post(giteaDelivery("issue_comment", giteaJson(p)))).status).toBe(202);
    const [job] = await probe.commandJobs();
    expect(job?.data).toMatchObject({ commands: [{ name: "stop" }], commentId: 2, ref: { number: 1, isPr: false } });
    // Gitea "Replay" sends the same comment with a new delivery id: accepted, but no second command job.
    const replay = await post(giteaDelivery("issue_comment", giteaJson(p), { id: "g-replay" }));
    expect(replay.status).toBe(202);
    expect(await probe.commandJobs()).toHaveLength(1);
  });

  it("a comment on a PR (real fixture, pull_request_comment type) is marked as a PR", async () => {
    const p = JSON.parse(giteaFixture("issue_comment.created.on-pull-request.json").toString()) as Json;
    (p.comment as Json).body = "/retry";
    const res = await post(giteaDelivery("issue_comment", giteaJson(p), { eventType: "pull_request_comment" }));
    expect(res.status).toBe(202);
    const [job] = await probe.commandJobs();
    expect(job?.data).toMatchObject({ commands: [{ name: "retry" }], commentId: 6, ref: { number: 2, isPr: true } });
  });

  it("the bot's own comment is ignored", async () => {
    const p = JSON.parse(giteaFixture("issue_comment.created.json").toString()) as Json;
    (p.comment as Json).body = "/stop";
    Object.assign(p.sender as Json, { login: BOT.gitea });
    expect(await (await post(giteaDelivery("issue_comment", giteaJson(p)))).json()).toEqual({
      ignored: "comment by forgehand itself",
    });
  });

  it("pull_request.opened (real fixture) with no labels is ignored; with a stage label it starts on the PR", async () => {
    const bytes = giteaFixture("pull_request.opened.json");
    expect(await (await post(giteaDelivery("pull_request", bytes))).json()).toEqual({
      ignored: "no stage label changed",
    });
    const p = JSON.parse(bytes.toString()) as Json;
    (p.pull_request as Json).labels = [{ id: 9, name: "agent:analyse", color: "", description: "", url: "" }];
    expect((await post(giteaDelivery("pull_request", giteaJson(p)))).status).toBe(202);
    const [job] = await probe.stageJobs();
    expect(job?.data).toMatchObject({ stage: "analyse", ref: { number: 2, isPr: true } });
  });

  it("pull_request closed/merged stops the PR's run", async () => {
    const p = JSON.parse(giteaFixture("pull_request.opened.json").toString()) as Json;
    p.action = "closed";
    Object.assign(p.pull_request as Json, { state: "closed", merged: true });
    expect((await post(giteaDelivery("pull_request", giteaJson(p)))).status).toBe(202);
    expect(await readStop(plain, prefix, { issue: "gitea:example/example#2" })).toMatchObject({ reason: "pr_merged" });
  });

  it("a review (coarse pull_request_comment event) routes nowhere", async () => {
    const res = await post(giteaDelivery("pull_request_comment", '{"action":"reviewed","review":{"content":"/stop"}}'));
    expect(await res.json()).toEqual({ ignored: "event `pull_request_comment` routes nowhere" });
  });

  it("no Gitea secret configured: every Gitea delivery is 401", async () => {
    const bare = createApp({ ...deps, secrets: { github: "x" } });
    const res = await bare.request(
      "/webhooks/gitea",
      giteaDelivery("issues", giteaFixture("issues.label_updated.json")),
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/GITEA_WEBHOOK_SECRET/);
  });
});
