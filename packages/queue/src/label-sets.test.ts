import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { decodeLabelSet, diffLabelSets, encodeLabelSet, labelSetKey, readLabelSet, writeLabelSet } from "./label-sets";

const redis = testRedis();
afterAll(() => redis.disconnect());

describe("diffLabelSets", () => {
  it("first sighting: everything present is added", () => {
    expect(diffLabelSets(null, ["b", "a", "a"])).toEqual({ added: ["a", "b"], removed: [], firstSighting: true });
  });

  it("reports additions and removals, ignoring order and duplicates", () => {
    expect(diffLabelSets(["x", "y"], ["y", "z", "z"])).toEqual({ added: ["z"], removed: ["x"], firstSighting: false });
    expect(diffLabelSets(["x"], ["x"])).toEqual({ added: [], removed: [], firstSighting: false });
  });

  it("property: applying the diff to the old set gives the new set", () => {
    const labels = fc.array(fc.string({ unit: "grapheme", maxLength: 8 }), { maxLength: 8 });
    fc.assert(
      fc.property(labels, labels, (before, after) => {
        const d = diffLabelSets(before, after);
        const result = new Set([...before.filter((l) => !d.removed.includes(l)), ...d.added]);
        expect([...result].sort()).toEqual([...new Set(after)].sort());
      }),
    );
  });
});

describe("label set storage", () => {
  it("round-trips canonically and treats garbage as never seen", async () => {
    expect(encodeLabelSet(["b", "a", "b"])).toBe('["a","b"]');
    expect(decodeLabelSet('["a"]')).toEqual(["a"]);
    expect(decodeLabelSet("{not json")).toBeNull();
    expect(decodeLabelSet("[1,2]")).toBeNull();
    expect(decodeLabelSet(null)).toBeNull();
    const prefix = uniquePrefix("labels");
    expect(await readLabelSet(redis, prefix, "gitea:o/r#1")).toBeNull();
    await writeLabelSet(redis.multi(), prefix, "gitea:o/r#1", ["🤖 x", "agent:a"]).exec();
    expect(await readLabelSet(redis, prefix, "gitea:o/r#1")).toEqual(["agent:a", "🤖 x"]);
    expect(await redis.ttl(labelSetKey(prefix, "gitea:o/r#1"))).toBeGreaterThan(0);
  });
});
