import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "./index";

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function post(path: string, token: string, body: unknown) {
  const res = await fetch(`${emu!.apiUrl}${path}`, {
    method: "POST",
    headers: { authorization: `token ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as { message?: string },
  };
}

describe("forge emulator: GitHub's secondary limits", () => {
  it("answers content creation beyond the per-minute limit with 403 + Retry-After, per token, and records scope and time", async () => {
    emu = await startForgeEmulator({
      flavour: "github",
      tokens: { a: "alice", b: "bob" },
      secondaryLimits: { createsPerMinute: 3, createsPerHour: 100 },
    });
    emu.addRepo("acme/app");
    const issue = emu.addIssue("acme/app", { title: "T" });
    const path = `/repos/acme/app/issues/${issue}/comments`;
    const before = Date.now();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(path, "a", { body: `c${i}` })).status);
    expect(statuses).toEqual([201, 201, 201, 403]);
    const limited = await post(path, "a", { body: "again" });
    expect(limited.status).toBe(403);
    expect(limited.body.message).toMatch(/secondary rate limit/);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    // Another token has a budget of its own; a label write is not content creation.
    expect((await post(path, "b", { body: "bob" })).status).toBe(201);
    expect((await post(`/repos/acme/app/issues/${issue}/labels`, "a", { labels: ["x"] })).status).toBe(200);
    const writes = emu.calls.filter((c) => c.method === "POST");
    expect(writes.map((c) => c.scope)).toEqual([...Array(5).fill("token:alice"), "token:bob", "token:alice"]);
    for (const c of writes) expect(c.at).toBeGreaterThanOrEqual(before);
  });
});
