import { describe, expect, it } from "vitest";
import { StageJob } from "./jobs";

const job = (resumeSessionId?: unknown) => ({
  kind: "stage",
  runId: "r-1",
  ref: {
    repo: { forge: "github", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "file:///tmp/app.git" },
    number: 7,
    isPr: false,
  },
  stage: "develop",
  trigger: { kind: "retry", by: "alice", deliveryId: "d-1" },
  requestedAt: 1,
  ...(resumeSessionId === undefined ? {} : { resumeSessionId }),
});

describe("StageJob.resumeSessionId", () => {
  it("accepts a job without one, and a UUID-shaped id", () => {
    expect(StageJob.parse(job()).resumeSessionId).toBeUndefined();
    const id = "d3ddd72c-efd8-442e-a03c-504c29ae2024";
    expect(StageJob.parse(job(id)).resumeSessionId).toBe(id);
  });

  it("rejects a forged job whose id is flag-like or malformed, naming the field", () => {
    for (const id of ["--dangerously-skip-permissions", "-resumeXX", "short", "has space!", "x".repeat(129), 7]) {
      const parsed = StageJob.safeParse(job(id));
      expect(parsed.success, String(id)).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(["resumeSessionId"]);
    }
  });
});
