import { createRedactor } from "@forgehand/core";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { createRunLogWriter, readRunLog } from "./run-log";
import { createRunStore } from "./run-store";

let redis: Redis;
beforeAll(() => {
  redis = testRedis();
});
afterAll(async () => {
  await redis.quit();
});

describe("run log writer with a redactor", () => {
  it("stores every line redacted, so reading or tailing the log never shows the secret", async () => {
    const prefix = uniquePrefix("runlog-redact");
    const token = "0123456789abcdef0123456789abcdef01234567";
    const write = createRunLogWriter(redis, prefix, { redact: createRedactor([token]).redact });
    await write("r1", "stdout", `GITEA_TOKEN=${token}`);
    await write("r1", "stderr", `pushing with ${token}`);
    await write("r1", "stdout", "plain line");
    const lines = (await readRunLog(redis, prefix, "r1")).map((e) => e.line);
    expect(lines).toEqual(["GITEA_TOKEN=[REDACTED]", "pushing with [REDACTED]", "plain line"]);
  });
});

describe("run store with a redactor", () => {
  const token = "fedcba9876543210fedcba9876543210fedcba98";
  const { redact } = createRedactor([token]);

  it("redacts the log lines and every text field of the records it writes, keeping the identity fields", async () => {
    const prefix = uniquePrefix("runstore-redact");
    const store = createRunStore(redis, prefix, { redact });
    const base = {
      id: "run-1",
      forge: "github" as const,
      repo: "acme/app",
      issue: 7,
      isPr: false,
      stage: "develop",
      state: "queued" as const,
      createdAt: Date.now(),
      turns: 0,
      costUsd: 0,
      attempts: 0,
      lastActions: [],
    };
    await store.create({ ...base, trigger: `label by ${token}`, reason: `queued: ${token}` });
    await store.update("run-1", {
      state: "failed",
      reason: `agent failed: GITEA_TOKEN=${token}`,
      lastActions: [`Bash echo ${token}`, "Read README.md"],
      sessionId: token,
    });
    await store.appendLog("run-1", "stdout", `leak ${token}`);
    const stored = JSON.stringify(await redis.hgetall(`${prefix}:run:run-1`));
    expect(stored).not.toContain(token);
    const record = await store.get("run-1");
    expect(record).toMatchObject({ id: "run-1", repo: "acme/app", stage: "develop", state: "failed" });
    expect(record?.lastActions).toEqual(["Bash echo [REDACTED]", "Read README.md"]);
    expect(record?.reason).toBe("agent failed: GITEA_TOKEN=[REDACTED]");
    expect((await store.readLog("run-1")).map((e) => e.line)).toEqual(["leak [REDACTED]"]);

    // Without the option the same writes keep the value: the option is what hides it.
    const plain = createRunStore(redis, prefix);
    await plain.update("run-1", { reason: token });
    expect((await plain.get("run-1"))?.reason).toBe(token);
  });
});
