import { existsSync, readFileSync } from "node:fs";
import { createGiteaClient } from "@forgehand/forge";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "./index";

// Gitea's PR reads held to Gitea's official swagger (v1.26.3, /work/shared/specs/README.md): every request
// the client sends is a documented method + path with documented query parameters, and every field the
// emulator answers is in the documented schema. (The GitHub side is held to @octokit/openapi-types at
// compile time in review-comment-shapes.ts.)
const SWAGGER = process.env.FORGEHAND_GITEA_SWAGGER ?? "/work/shared/specs/gitea-swagger.json";

interface Param {
  name: string;
  in: string;
}
interface Swagger {
  paths: Record<string, Record<string, { parameters?: Param[]; produces?: string[] }>>;
  definitions: Record<string, { properties: Record<string, unknown> }>;
}

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/**
 * The swagger operation a request path matches (`{x}` is one segment, or a part of one split at a dot);
 * the one with the fewest parameters, as Gitea's router prefers `…/pulls/{index}/reviews` to `…/pulls/{base}/{head}`.
 */
function operation(spec: Swagger, method: string, path: string) {
  const params = (t: string) => t.split("{").length;
  const templates = Object.entries(spec.paths).sort(([a], [b]) => params(a) - params(b));
  for (const [template, ops] of templates) {
    const re = new RegExp(`^${template.replace(/\./g, "\\.").replace(/\{[^}]+\}/g, "[^/.]+")}$`);
    const op = ops[method.toLowerCase()];
    if (op && re.test(path)) return { template, op };
  }
  return undefined;
}

describe.skipIf(!existsSync(SWAGGER))("Gitea PR reads against the official swagger", () => {
  it("sends only documented requests and answers only documented fields", async () => {
    const spec = JSON.parse(readFileSync(SWAGGER, "utf8")) as Swagger;
    emu = await startForgeEmulator({ flavour: "gitea" });
    emu.addRepo("acme/app");
    const n = emu.addPull("acme/app", { head: "feature", diff: "diff --git a/x b/x\n" });
    emu.addReviewComment("acme/app", n, { author: "alice", path: "x", line: 2, body: "hm" });
    const client = createGiteaClient({ url: emu.url, token: "test-token" });
    const repo = { forge: "gitea" as const, fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
    await client.getPullRequestDiff(repo, n);
    await client.listPullRequestReviewComments(repo, n);
    const seen = new Set<string>();
    for (const call of emu.calls) {
      const found = operation(spec, call.method, call.path);
      expect(found, `${call.method} ${call.path}`).toBeDefined();
      const declared = new Set((found?.op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name));
      for (const name of new URLSearchParams(call.query).keys())
        expect(declared, `${call.path}?${name}`).toContain(name);
      seen.add(`${call.method} ${found?.template}`);
    }
    expect([...seen].sort()).toEqual([
      "GET /repos/{owner}/{repo}/pulls/{index}.{diffType}",
      "GET /repos/{owner}/{repo}/pulls/{index}/reviews",
      "GET /repos/{owner}/{repo}/pulls/{index}/reviews/{id}/comments",
    ]);
    expect(spec.paths["/repos/{owner}/{repo}/pulls/{index}.{diffType}"]?.get?.produces).toEqual(["text/plain"]);

    const get = (path: string) =>
      fetch(`${emu?.apiUrl}${path}`, { headers: { authorization: "token test-token" } }).then((r) => r.json());
    const [review] = (await get(`/repos/acme/app/pulls/${n}/reviews`)) as { id: number }[];
    const comments = (await get(`/repos/acme/app/pulls/${n}/reviews/${review?.id}/comments`)) as object[];
    const fields = (name: string) => Object.keys(spec.definitions[name]?.properties ?? {});
    expect(fields("PullReview")).toEqual(expect.arrayContaining(Object.keys(review ?? {})));
    expect(comments).toHaveLength(1);
    expect(fields("PullReviewComment")).toEqual(expect.arrayContaining(Object.keys(comments[0] ?? {})));
  });
});
