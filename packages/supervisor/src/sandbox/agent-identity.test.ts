import { describe, expect, it } from "vitest";
import { parsePasswd, resolveAgentIdentity } from "./agent-identity";

const passwd = [
  "root:x:0:0:root:/root:/bin/bash",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "node:x:1000:1000::/home/node:/bin/bash",
].join("\n");
const withAgent = `${passwd}\nforgehand-agent:x:998:997::/nonexistent:/usr/sbin/nologin\n`;

describe("resolveAgentIdentity", () => {
  it("root runner: forgehand-agent when it exists, else nobody 65534/65534", () => {
    expect(resolveAgentIdentity({ passwd: withAgent, runnerUid: 0, runnerGid: 0 })).toMatchObject({
      uid: 998,
      gid: 997,
      user: "forgehand-agent",
      runnerIsRoot: true,
      source: "forgehand-agent",
    });
    expect(resolveAgentIdentity({ passwd, runnerUid: 0, runnerGid: 0 })).toMatchObject({
      uid: 65534,
      gid: 65534,
      runnerIsRoot: true,
      source: "nobody",
    });
  });

  it("root runner: a configured user by name or uid; never root; unknown names fail", () => {
    expect(resolveAgentIdentity({ passwd, runnerUid: 0, configuredUser: "node" })).toMatchObject({
      uid: 1000,
      source: "configured",
    });
    expect(resolveAgentIdentity({ passwd, runnerUid: 0, configuredUser: 1000 }).uid).toBe(1000);
    expect(() => resolveAgentIdentity({ passwd, runnerUid: 0, configuredUser: "root" })).toThrow(/root/);
    expect(() => resolveAgentIdentity({ passwd, runnerUid: 0, configuredUser: 0 })).toThrow(/root/);
    expect(() => resolveAgentIdentity({ passwd, runnerUid: 0, configuredUser: "ghost" })).toThrow(/does not exist/);
  });

  it("non-root runner: its own ids in a user namespace; another configured user is an error", () => {
    expect(resolveAgentIdentity({ passwd: withAgent, runnerUid: 1000, runnerGid: 1000 })).toMatchObject({
      uid: 1000,
      gid: 1000,
      user: "node",
      runnerIsRoot: false,
      source: "runner",
    });
    expect(() =>
      resolveAgentIdentity({ passwd: withAgent, runnerUid: 1000, configuredUser: "forgehand-agent" }),
    ).toThrow(/needs a root runner/);
  });

  it("parses passwd lines and skips junk", () => {
    expect(parsePasswd("# c\nbad\na:x:1:2::/h:/s\n")).toEqual([{ name: "a", uid: 1, gid: 2, home: "/h" }]);
  });
});
