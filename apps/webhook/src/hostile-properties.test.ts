import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { githubDelivery } from "./testing/delivery-fixtures";
import {
  commentPayload as comment,
  labeledPayload as labeled,
  refused,
  useHostileCorpus,
} from "./testing/hostile-corpus";

// The hostile corpus's property tests (hostile-deliveries.test.ts has the hand-written cases): every
// delivery is refused (4xx) or ignored (200 + "ignored"); none may enqueue, write state or crash the app.

const { send } = useHostileCorpus("hostile-props");

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
