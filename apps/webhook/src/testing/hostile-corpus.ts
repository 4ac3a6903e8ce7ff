import { afterAll, beforeAll, expect } from "vitest";
import { githubExample } from "./delivery-fixtures";
import { openWebhookHarness, type WebhookHarness } from "./webhook-harness";

/**
 * The hostile corpus's frame (hostile-deliveries and hostile-properties tests): every delivery sent through it
 * must be refused (4xx) or ignored (200 + "ignored"). Afterwards, for the corpus as a whole: at least
 * `minSent` were sent, nothing was enqueued or written (no stop flag, no delivery mark), and the app still serves.
 */
export function useHostileCorpus(name: string, minSent = 50) {
  let harness: WebhookHarness;
  let sent = 0;
  beforeAll(async () => {
    harness = await openWebhookHarness(name);
  });
  afterAll(async () => {
    expect(sent).toBeGreaterThanOrEqual(minSent);
    expect(await harness.probe.total()).toBe(0);
    expect((await harness.plain.keys(`${harness.prefix}:*`)).filter((k) => !k.endsWith(":meta"))).toEqual([]);
    expect((await harness.app.request("/healthz")).status).toBe(200);
    await harness.close();
  });

  /** One request of the corpus, counted; the answer's JSON body (or `{}`). */
  async function send(init?: RequestInit, path = "/webhooks/github") {
    sent++;
    const res = await harness.app.request(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  /** A counted request whose answer is not JSON (a GET, a 404). */
  async function request(path: string, init?: RequestInit) {
    sent++;
    return harness.app.request(path, init);
  }
  return { send, request };
}

export const refused = (status: number) => status >= 400 && status < 500;

/** An `issue_comment.created` payload with this body. */
export function commentPayload(body: string) {
  const p = githubExample("issue_comment", "created");
  (p.comment as { body: string }).body = body;
  return p;
}

/** An `issues.labeled` payload for this label. */
export function labeledPayload(name: string) {
  const p = githubExample("issues", "labeled");
  (p.label as { name: string }).name = name;
  return p;
}
