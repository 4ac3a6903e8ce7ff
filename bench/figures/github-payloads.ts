import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The stage label every bench config uses, so label deliveries enqueue a run. */
export const BENCH_STAGE_LABEL = "agent:analyse";
/** Size the ingest payload is padded to: the issue's ~12 KB. */
export const INGEST_PAYLOAD_BYTES = 12 * 1024;

type Json = Record<string, unknown>;

interface ExampleSet {
  name: string;
  examples: Json[];
}

/** A real `issues.labeled` delivery from @octokit/webhooks-examples (GitHub's own recorded example). */
export function issuesLabeledExample(): Json {
  const all = require("@octokit/webhooks-examples/api.github.com/index.json") as ExampleSet[];
  const example = all.find((e) => e.name === "issues")?.examples.find((e) => e.action === "labeled");
  if (!example) throw new Error("[bench] @octokit/webhooks-examples has no issues.labeled example");
  return structuredClone(example);
}

const BODY_PARAGRAPH =
  "When the session cookie has expired, `/login?next=/settings` redirects to `/settings`, which redirects back to " +
  "`/login`, forever. Steps: sign in, wait for the session to expire (or set `SESSION_TTL=5s`), open a settings page. " +
  "Expected: the login form. Actual: `ERR_TOO_MANY_REDIRECTS`.\n\n";

/**
 * Builds one `issues.labeled` delivery body for issue `number` with the stage label, the
 * issue body padded with realistic bug-report text so the whole body is about `bytes` long.
 */
export function labeledPayload(options: {
  number: number;
  label?: string;
  cloneUrl?: string;
  fullName?: string;
  bytes?: number;
}): string {
  const p = issuesLabeledExample();
  const label = { id: 1362934389, node_id: "MDU6TGFiZWwxMzYyOTM0Mzg5", name: options.label ?? BENCH_STAGE_LABEL };
  const issue = p.issue as Json;
  const repo = p.repository as Json;
  p.label = { ...(p.label as Json), ...label };
  issue.number = options.number;
  issue.labels = [{ ...((issue.labels as Json[])[0] ?? {}), ...label }];
  issue.title = `Login redirect loops after session expiry (#${options.number})`;
  pointAt(repo, options);
  (p.sender as Json).type = "User";
  issue.body = "";
  const base = JSON.stringify(p).length;
  const want = Math.max(0, (options.bytes ?? INGEST_PAYLOAD_BYTES) - base);
  let body = "";
  while (body.length < want) body += BODY_PARAGRAPH;
  issue.body = body.slice(0, want);
  return JSON.stringify(p);
}

/** Points the example's repository at the bench's own origin (a local bare repo on `main`). */
function pointAt(repo: Json, options: { cloneUrl?: string; fullName?: string }) {
  if (options.cloneUrl) {
    repo.clone_url = options.cloneUrl;
    repo.default_branch = "main";
  }
  if (options.fullName) {
    repo.full_name = options.fullName;
    const [owner, name] = options.fullName.split("/");
    repo.name = name;
    (repo.owner as Json).login = owner;
  }
}

/** An `issue_comment.created` delivery whose body is `text` (e.g. `/stop`). */
export function commentPayload(options: {
  number: number;
  text: string;
  cloneUrl?: string;
  fullName?: string;
}): string {
  const p = issuesLabeledExample();
  const issue = p.issue as Json;
  const repo = p.repository as Json;
  issue.number = options.number;
  pointAt(repo, options);
  (p.sender as Json).type = "User";
  delete p.label;
  return JSON.stringify({
    ...p,
    action: "created",
    comment: {
      id: 900000 + options.number,
      node_id: "IC_kwDOBench",
      body: options.text,
      user: p.sender,
      author_association: "OWNER",
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
      html_url: `${String(issue.html_url)}#issuecomment-${900000 + options.number}`,
    },
  });
}

/** `sha256=<hex>` HMAC of the raw body, as GitHub sends in `X-Hub-Signature-256`. */
export function signGithub(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Headers of one GitHub delivery with a fresh delivery id. */
export function githubHeaders(
  event: string,
  signature: string,
  deliveryId: string = randomUUID(),
): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/bench",
    "x-github-event": event,
    "x-github-delivery": deliveryId,
    "x-github-hook-id": "1",
    "x-hub-signature-256": signature,
  };
}
