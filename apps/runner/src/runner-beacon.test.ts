import { describe, expect, it } from "vitest";
import { hostIdentity, sameHost } from "./host-identity";
import { parseBeacon } from "./runner-beacon";

const good = {
  id: "a",
  workerId: "w-1",
  pid: 4242,
  startTime: 99,
  host: hostIdentity(),
  registryDir: "/data/a/agents",
  at: 1,
};

describe("parseBeacon", () => {
  it("reads a beacon a runner wrote", () => {
    expect(parseBeacon(JSON.stringify(good))).toEqual(good);
  });

  it.each([
    ["not JSON", "{"],
    ["null", "null"],
    ["no worker id", JSON.stringify({ ...good, workerId: "" })],
    ["pid 1 (never a runner)", JSON.stringify({ ...good, pid: 1 })],
    ["pid not a number", JSON.stringify({ ...good, pid: "4242" })],
    ["start time not whole", JSON.stringify({ ...good, startTime: 1.5 })],
    ["host missing", JSON.stringify({ ...good, host: undefined })],
    ["host part mistyped", JSON.stringify({ ...good, host: { ...good.host, pidNs: 4 } })],
  ])("refuses %s: it steers nothing", (_what, raw) => {
    expect(parseBeacon(raw)).toBeUndefined();
  });
});

describe("sameHost", () => {
  const me = hostIdentity();
  it("is this host only when name, boot and pid namespace all match", () => {
    expect(sameHost(me, { ...me })).toBe(true);
    expect(sameHost(me, { ...me, name: `${me.name}-other` })).toBe(false);
    expect(sameHost(me, { ...me, bootId: "another-boot" })).toBe(false);
    expect(sameHost(me, { ...me, pidNs: "pid:[1]" })).toBe(false);
    expect(sameHost(me, undefined)).toBe(false);
  });

  it("never matches when this host's identity is unknown (no /proc)", () => {
    const blind = { ...me, bootId: "", pidNs: "" };
    expect(sameHost(blind, blind)).toBe(false);
  });
});
