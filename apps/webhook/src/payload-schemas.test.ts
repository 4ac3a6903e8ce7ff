import { ForgeEvent } from "@forgehand/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { DeliveryHeaders } from "./delivery-headers";
import { normaliseEvent } from "./normalise-event";
import { parseEnvelope } from "./payload-schemas";
import { giteaFixture, githubExample } from "./testing/delivery-fixtures";

// The zod envelope the hand-written check replaced: the oracle it must agree with on every input.
const User = z.looseObject({
  login: z.string().optional(),
  username: z.string().optional(),
  type: z.string().optional(),
});
const Label = z.looseObject({ name: z.string() });
const Issue = z.looseObject({
  number: z.number().int().positive(),
  title: z.string().nullish(),
  body: z.string().nullish(),
  state: z.string().nullish(),
  labels: z.array(Label).nullish(),
  pull_request: z.unknown().optional(),
  merged: z.boolean().nullish(),
});
const Oracle = z.looseObject({
  action: z.string().optional(),
  repository: z
    .looseObject({
      full_name: z.string().min(3),
      name: z.string().min(1),
      owner: User,
      clone_url: z.string().min(1),
      default_branch: z.string().nullish(),
    })
    .optional(),
  issue: Issue.nullish(),
  pull_request: Issue.nullish(),
  label: Label.nullish(),
  comment: z
    .looseObject({ id: z.number().int(), body: z.string().nullish(), author_association: z.string().optional() })
    .nullish(),
  sender: User.nullish(),
  installation: z.looseObject({ id: z.number().int() }).nullish(),
  is_pull: z.boolean().optional(),
});

type Json = Record<string, unknown>;
const github = (event: string): DeliveryHeaders => ({
  forge: "github",
  flavour: "github",
  event,
  deliveryId: "d-1",
  signature: "",
});

const bases: [string, () => Json][] = [
  ["issues", () => githubExample("issues", "labeled")],
  ["issue_comment", () => githubExample("issue_comment", "created")],
  ["pull_request", () => githubExample("pull_request", "closed")],
  ["issues", () => JSON.parse(giteaFixture("issues.label_updated.json").toString("utf8")) as Json],
  [
    "issue_comment",
    () => JSON.parse(giteaFixture("issue_comment.created.on-pull-request.json").toString("utf8")) as Json,
  ],
];

// Every path the check looks at, and a few it must ignore.
const paths = [
  "action",
  "repository",
  "repository.full_name",
  "repository.name",
  "repository.owner",
  "repository.owner.login",
  "repository.owner.username",
  "repository.clone_url",
  "repository.default_branch",
  "issue",
  "issue.number",
  "issue.title",
  "issue.body",
  "issue.state",
  "issue.labels",
  "issue.labels.0",
  "issue.labels.0.name",
  "issue.pull_request",
  "issue.merged",
  "pull_request",
  "pull_request.number",
  "pull_request.merged",
  "label",
  "label.name",
  "comment",
  "comment.id",
  "comment.body",
  "comment.author_association",
  "sender",
  "sender.login",
  "sender.type",
  "installation",
  "installation.id",
  "is_pull",
  "unknown_field",
  "issue.unknown",
  "repository.id",
];
const values = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    "",
    "ab",
    "abc",
    "x/y",
    0,
    -1,
    1,
    1.5,
    2 ** 53,
    true,
    false,
    [],
    {},
    [{}],
    [{ name: 1 }],
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

function mutate(json: Json, path: string, value: unknown): void {
  const keys = path.split(".");
  let at: unknown = json;
  for (const key of keys.slice(0, -1)) {
    if (typeof at !== "object" || at === null) return;
    at = (at as Json)[key];
  }
  if (typeof at !== "object" || at === null) return;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete (at as Json)[last];
  else (at as Json)[last] = value;
}

describe("parseEnvelope", () => {
  it("property: accepts exactly what the zod envelope accepts, whatever the routed fields hold", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.constantFrom(...paths), values), { minLength: 1, maxLength: 4 }),
        ([event, base], edits) => {
          const json = base();
          for (const [path, value] of edits) mutate(json, path, value);
          const want = Oracle.safeParse(json).success;
          let got = true;
          try {
            parseEnvelope(json, github(event));
          } catch (error) {
            expect((error as Error).message).toMatch(/^\[webhook\] github `\w+` payload is not usable: \S+: /);
            got = false;
          }
          expect(got).toBe(want);
          // What is accepted normalises into a valid ForgeEvent, or is refused with a clear 400.
          if (got) {
            try {
              expect(ForgeEvent.safeParse(normaliseEvent(github(event), json)).success).toBe(true);
            } catch (error) {
              expect((error as Error).message).toMatch(/^\[webhook\] /);
            }
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("checks in place: the envelope it returns is the parsed object itself, unknown fields and all", () => {
    const json = githubExample("issues", "labeled");
    json.brand_new_field = { nested: [1, 2] };
    const env = parseEnvelope(json, github("issues"));
    expect(env).toBe(json);
  });

  it("names the bad fields in the 400", () => {
    const json = githubExample("issues", "labeled");
    (json.issue as Json).number = -3;
    (json.repository as Json).full_name = 7;
    expect(() => parseEnvelope(json, github("issues"))).toThrow(
      "payload is not usable: repository.full_name: expected string, got number; issue.number: expected positive integer, got number",
    );
  });
});
