import fc from "fast-check";
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { githubDelivery, githubExample, type QueueProbe } from "./testing/delivery-fixtures";
import { openWebhookHarness } from "./testing/webhook-harness";

// The hostile corpus's property tests (hostile-deliveries.test.ts has the hand-written cases): every
// delivery is refused (4xx) or ignored (200 + "ignored"); none may enqueue, write state or crash the app.

let app: Hono;
let probe: QueueProbe;
let plain: Redis;
let prefix: string;
let close: () => Promise<void>;
let sent = 0;

beforeAll(async () => {
  ({ app, probe, plain, prefix, close } = await openWebhookHarness("hostile-props"));
});
afterAll(async () => {
  expect(sent).toBeGreaterThanOrEqual(50);
  expect(await probe.total()).toBe(0);
  expect((await plain.keys(`${prefix}:*`)).filter((k) => !k.endsWith(":meta"))).toEqual([]);
  expect((await app.request("/healthz")).status).toBe(200);
  await close();
});

async function send(init: RequestInit, path = "/webhooks/github") {
  sent++;
  const res = await app.request(path, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
const refused = (status: number) => status >= 400 && status < 500;
const comment = (body: string) => {
  const p = githubExample("issue_comment", "created");
  (p.comment as { body: string }).body = body;
  return p;
};
const labeled = (name: string) => {
  const p = githubExample("issues", "labeled");
  (p.label as { name: string }).name = name;
  return p;
};

describe("hostile corpus: properties", () => {
  it("property: arbitrary bodies with arbitrary signatures never get past 401/400/413", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.string({ maxLength: 80 }), async (bytes, sig) => {
        const res = await send({
          method: "POST",
          body: bytes,
          headers: {
            "content-type": "application/json",
            "x-github-event": "issues",
            "x-github-delivery": "prop-1",
            "x-hub-signature-256": sig,
          },
        });
        expect(refused(res.status)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it("property: correctly signed JSON that is not an object is 400", async () => {
    const notObject = fc.jsonValue().filter((v) => typeof v !== "object" || v === null || Array.isArray(v));
    await fc.assert(
      fc.asyncProperty(notObject, async (value) => {
        const res = await send(githubDelivery("issues", JSON.stringify(value)));
        expect(res.status).toBe(400);
      }),
      { numRuns: 20 },
    );
  });

  it("property: commands hidden in fences or quotes never make a job, whatever surrounds them", async () => {
    const cmd = fc.constantFrom("/stop", "/retry", "/run develop", "/status", "/help");
    const hide = fc.constantFrom(
      (c: string) => `\`\`\`\n${c}\n\`\`\``,
      (c: string) => `> ${c}`,
      (c: string) => `text \`${c}\``,
      (c: string) => `~~~~\n${c}\n~~~~`,
    );
    const noise = fc.string({ maxLength: 200 }).map((s) => s.replace(/^\s*\//gm, "").replace(/[`~>]/g, ""));
    await fc.assert(
      fc.asyncProperty(cmd, hide, noise, noise, async (c, h, before, after) => {
        const res = await send(githubDelivery("issue_comment", comment(`${before}\n${h(c)}\n${after}`)));
        expect(res.status).toBe(200);
        expect(res.body.ignored).toBeDefined();
      }),
      { numRuns: 20 },
    );
  });

  it("property: unicode labels that are not stage labels are ignored", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", minLength: 1, maxLength: 50 }), async (name) => {
        fc.pre(!["agent:analyse", "agent:develop", "bug", "🤖 agent:ünïcode"].includes(name));
        const res = await send(githubDelivery("issues", labeled(name)));
        expect(res.status).toBe(200);
      }),
      { numRuns: 20 },
    );
  });
});
