import { parseConfig } from "@forgehand/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { createApp } from "./create-app";
import { repoAllowed } from "./route-event";
import { githubDelivery, githubExample, QueueProbe, TEST_CONFIG, testDeps } from "./testing/delivery-fixtures";

const withRepos = (repos: string[]) => parseConfig({ ...structuredClone(TEST_CONFIG), repos }, {}).config;

describe("repos: allowlist", () => {
  it("matches owner/name and owner/*, case-insensitively; absent allows every repository", () => {
    const config = withRepos(["acme/app", "Tools/*"]);
    expect(repoAllowed(config, "acme/app")).toBe(true);
    expect(repoAllowed(config, "ACME/App")).toBe(true);
    expect(repoAllowed(config, "tools/anything")).toBe(true);
    expect(repoAllowed(config, "acme/other")).toBe(false);
    expect(repoAllowed(config, "acme/app-evil")).toBe(false);
    expect(repoAllowed(config, "evil/app")).toBe(false);
    expect(repoAllowed(TEST_CONFIG, "anyone/anything")).toBe(true);
  });
  it("rejects entries that are not owner/name", () => {
    expect(() => withRepos(["acme"])).toThrow(/repos\[0\]: use owner\/name or owner\/\*/);
    expect(() => withRepos(["a/b/c"])).toThrow(/repos\[0\]/);
  });

  describe("over the webhook", () => {
    const prefix = uniquePrefix("repos");
    const plain = testRedis();
    const probe = new QueueProbe(plain, prefix);
    let app: ReturnType<typeof createApp>;
    let close: () => void;
    beforeAll(async () => {
      const deps = await testDeps(testRedisUrl(), prefix, { config: withRepos(["someone-else/*"]) });
      app = createApp(deps);
      close = () => deps.redis.disconnect();
    });
    afterAll(async () => {
      await probe.close();
      plain.disconnect();
      close();
    });
    it("a signed stage-label delivery from a repository outside `repos` is answered 200 with the reason, and starts nothing", async () => {
      const p = githubExample("issues", "labeled");
      (p.label as { name: string }).name = "agent:analyse";
      const res = await app.request("/webhooks/github", githubDelivery("issues", p, { id: "other-repo-1" }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ignored: "repository `Codertocat/Hello-World` is not in `repos`" });
      expect(await probe.total()).toBe(0);
    });
  });
});
