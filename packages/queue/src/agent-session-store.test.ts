import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import {
  AGENT_SESSION_OUTPUT_MAX,
  AGENT_SESSION_TTL_S,
  type AgentSessionState,
  agentSessionKey,
  isSafeHomePath,
  loadAgentOutput,
  loadAgentSession,
  saveAgentOutput,
  saveAgentSession,
} from "./agent-session-store";

const ISSUE = "github:acme/app#7";
const SID = "0b1c2d3e-aaaa-bbbb-cccc-000000000001";
const state = (over: Partial<AgentSessionState> = {}): AgentSessionState => ({
  v: 1,
  cli: "claude",
  sessionId: SID,
  worktree: "/srv/a/worktrees/7",
  savedAt: 1,
  files: [{ path: ".claude/projects/-srv-a-worktrees-7/x.jsonl", data: Buffer.from("{}\n").toString("base64") }],
  ...over,
});

describe("agent session store", () => {
  let redis: Redis;
  const prefix = uniquePrefix("sess");
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());

  it("round-trips a session with the retry window as TTL, and its output under its own key", async () => {
    expect(await saveAgentSession(redis, prefix, ISSUE, state())).toBe(true);
    expect(await loadAgentSession(redis, prefix, ISSUE, SID)).toEqual({ found: true, state: state() });
    const ttl = await redis.ttl(agentSessionKey(prefix, ISSUE, SID));
    expect(ttl).toBeGreaterThan(AGENT_SESSION_TTL_S - 10);
    await saveAgentOutput(redis, prefix, ISSUE, SID, "x".repeat(AGENT_SESSION_OUTPUT_MAX + 5));
    expect((await loadAgentOutput(redis, prefix, ISSUE, SID))?.length).toBe(AGENT_SESSION_OUTPUT_MAX);
    expect(await loadAgentSession(redis, prefix, "github:acme/app#8", SID)).toEqual({ found: false });
  });

  it("does not save a session over the size cap", async () => {
    const big = state({ sessionId: "big-session-1", files: [{ path: "a/b", data: "A".repeat(4000) }] });
    expect(await saveAgentSession(redis, prefix, ISSUE, big, { maxBytes: 1000 })).toBe(false);
    expect(await loadAgentSession(redis, prefix, ISSUE, "big-session-1")).toEqual({ found: false });
  });

  it("refuses stored bytes that are not JSON, escape HOME, name another session or exceed the cap", async () => {
    const key = agentSessionKey(prefix, ISSUE, "bad-session-1");
    await redis.set(key, "{not json");
    expect(await loadAgentSession(redis, prefix, ISSUE, "bad-session-1")).toEqual({
      found: false,
      invalid: "not JSON",
    });
    await redis.set(
      key,
      JSON.stringify(state({ sessionId: "bad-session-1", files: [{ path: "../../etc/x", data: "" }] })),
    );
    expect((await loadAgentSession(redis, prefix, ISSUE, "bad-session-1")).found).toBe(false);
    await redis.set(key, JSON.stringify(state({ sessionId: "other-session" })));
    expect(await loadAgentSession(redis, prefix, ISSUE, "bad-session-1")).toMatchObject({ found: false });
    await redis.set(
      key,
      JSON.stringify(state({ sessionId: "bad-session-1", files: [{ path: "a", data: "A".repeat(8000) }] })),
    );
    expect(await loadAgentSession(redis, prefix, ISSUE, "bad-session-1", { maxBytes: 100 })).toEqual({
      found: false,
      invalid: "larger than the size cap",
    });
  });

  it("accepts only plain relative paths", () => {
    expect(isSafeHomePath(".claude/projects/-a/x.jsonl")).toBe(true);
    for (const bad of ["", "/etc/passwd", "a/../b", "./a", "a//b", "a\\b", "a\0b", ".."])
      expect(isSafeHomePath(bad)).toBe(false);
  });
});
