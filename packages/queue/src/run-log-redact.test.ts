import { createRedactor } from "@forgehand/core";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { createRunLogWriter, readRunLog } from "./run-log";

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
