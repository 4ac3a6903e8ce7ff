import { describe, expect, it } from "vitest";
import { commandJobIdFor, DELIVERY_TTL_S, deliveryKey, jobOptionsFor } from "./deliveries";
import { runIdFor } from "./jobs";

describe("delivery helpers", () => {
  it("command job ids are stable per forge+delivery, distinct otherwise, and valid BullMQ ids", () => {
    const a = commandJobIdFor("github", "o/r", 1);
    expect(commandJobIdFor("github", "o/r", 1)).toBe(a);
    expect(commandJobIdFor("gitea", "o/r", 1)).not.toBe(a);
    expect(commandJobIdFor("github", "o/r2", 1)).not.toBe(a);
    expect(commandJobIdFor("github", "o/r", 2)).not.toBe(a);
    expect(a).toMatch(/^c[0-9a-f]{12}$/);
    expect(a).not.toBe(runIdFor("github", "d1", "x", "y"));
  });

  it("keeps delivery ids past GitHub's 3-day redelivery window and jobs for a week", () => {
    expect(DELIVERY_TTL_S).toBeGreaterThanOrEqual(3 * 24 * 3600);
    expect(deliveryKey("fh", "gitea", "abc")).toBe("fh:delivery:gitea:abc");
    expect(jobOptionsFor("r1")).toEqual({
      jobId: "r1",
      removeOnComplete: { age: 604800 },
      removeOnFail: { age: 604800 },
    });
  });
});
