import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { verify } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runForgehand } from "./run-forgehand";

// A real Gitea capture (go-playground/webhooks testdata, MIT), plus a final newline.
const GITEA_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "gitea-issues.label_updated.json");
const GITHUB_FIXTURE = require.resolve("@octokit/webhooks-examples/api.github.com/index.json");

/** A receiver that records each delivery's exact bytes and headers; `/fail` answers 500. */
const received: { headers: IncomingHttpHeaders; body: Buffer; url: string }[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks), url: req.url ?? "" });
    const failing = req.url === "/fail";
    res.writeHead(failing ? 500 : 202, { "content-type": "application/json" });
    res.end(failing ? '{"error":"boom"}' : '{"delivery":"d","jobs":["r1"]}');
  });
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("forgehand replay", { timeout: 90_000 }, () => {
  it("posts a GitHub payload's exact bytes with a valid sha256= signature and a fresh delivery id", async () => {
    const env = cleanEnv({ GITHUB_WEBHOOK_SECRET: "It's a Secret to Everybody" });
    const args = [
      "replay",
      GITHUB_FIXTURE,
      "--forge",
      "github",
      "--event",
      "issues",
      "--url",
      `${base}/webhooks/github`,
    ];
    const first = await runForgehand(args, { env });
    expect((await runForgehand(args, { env })).code).toBe(0);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^202 Accepted \(delivery [0-9a-f-]{36}\)\n\{"delivery":"d","jobs":\["r1"\]\}/);
    const [a, b] = received.slice(-2);
    expect(a!.body.equals(readFileSync(GITHUB_FIXTURE))).toBe(true);
    expect(a!.headers["x-github-event"]).toBe("issues");
    expect(
      await verify("It's a Secret to Everybody", a!.body.toString("utf8"), String(a!.headers["x-hub-signature-256"])),
    ).toBe(true);
    expect(await verify("another secret", a!.body.toString("utf8"), String(a!.headers["x-hub-signature-256"]))).toBe(
      false,
    );
    expect(a!.headers["x-github-delivery"]).not.toBe(b!.headers["x-github-delivery"]);
  });

  it("signs Gitea deliveries with bare hex and sends X-Gitea-Event / X-Gitea-Event-Type", async () => {
    const { code } = await runForgehand(
      ["replay", GITEA_FIXTURE, "--forge", "gitea", "--event", "issue_label", "--url", `${base}/webhooks/gitea`],
      { env: cleanEnv({ GITEA_WEBHOOK_SECRET: "gitea-secret" }) },
    );
    expect(code).toBe(0);
    const { headers, body } = received.at(-1)!;
    const want = createHmac("sha256", "gitea-secret").update(readFileSync(GITEA_FIXTURE)).digest("hex");
    expect(body.equals(readFileSync(GITEA_FIXTURE))).toBe(true);
    expect(headers["x-gitea-signature"]).toBe(want);
    expect(headers["x-gitea-event"]).toBe("issues");
    expect(headers["x-gitea-event-type"]).toBe("issue_label");
    expect(headers["x-gitea-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("exits non-zero and prints the answer when the server says no", async () => {
    const { code, stdout } = await runForgehand(
      ["replay", GITEA_FIXTURE, "--forge", "gitea", "--event", "issues", "--url", `${base}/fail`],
      { env: cleanEnv({ GITEA_WEBHOOK_SECRET: "s" }) },
    );
    expect(code).toBe(1);
    expect(stdout).toContain("500 Internal Server Error");
    expect(stdout).toContain('{"error":"boom"}');
  });

  it("refuses without the secret, a bad --forge, or a missing file, naming the problem", async () => {
    const noSecret = await runForgehand(["replay", GITEA_FIXTURE, "--forge", "github", "--event", "issues"]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain("GITHUB_WEBHOOK_SECRET is unset");
    const badForge = await runForgehand(["replay", GITEA_FIXTURE, "--forge", "gitlab", "--event", "x"]);
    expect(badForge.stderr).toContain("--forge must be github or gitea, got `gitlab`");
    const missing = await runForgehand(["replay", "/nope.json", "--forge", "gitea", "--event", "issues"], {
      env: cleanEnv({ GITEA_WEBHOOK_SECRET: "s" }),
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read `/nope.json`: ENOENT");
  });
});
