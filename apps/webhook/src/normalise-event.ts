import type { ForgeEvent } from "@forgehand/core";
import type { DeliveryHeaders } from "./delivery-headers";
import { checkedEvent, issueOf, loginOf, parseEnvelope, repoRefOf, required } from "./payload-schemas";

/**
 * Events that can route somewhere. Everything else (push, reviews, installation, …) is
 * answered "ignored" without its payload being validated, so unknown shapes never 400.
 * Gitea's coarse `pull_request_comment` is a *review* (docs/FORGES.md §2.1), which carries no comment id.
 */
const ROUTED_EVENTS = new Set(["issues", "issue_comment", "pull_request"]);

/** Normalises a verified GitHub, Gitea or Forgejo payload into one forge-neutral ForgeEvent. */
export function normaliseEvent(headers: DeliveryHeaders, json: Record<string, unknown>): ForgeEvent {
  const base: ForgeEvent = {
    forge: headers.forge,
    flavour: headers.flavour,
    deliveryId: headers.deliveryId,
    event: headers.event,
    ...(typeof json.action === "string" ? { action: json.action.slice(0, 64) } : {}),
  };
  if (!ROUTED_EVENTS.has(headers.event)) return base;
  const env = parseEnvelope(json, headers);
  const repo = repoRefOf(required(env.repository, "repository", headers), headers);
  let issue: ForgeEvent["issue"];
  if (headers.event === "pull_request") {
    const pr = required(env.pull_request, "pull_request", headers);
    issue = issueOf(pr, true, pr.merged ?? false);
  } else {
    const it = required(env.issue, "issue", headers);
    // GitHub marks a PR's issue by `issue.pull_request`; Gitea also sends `is_pull` on comments.
    issue = issueOf(it, env.is_pull ?? (it.pull_request !== null && it.pull_request !== undefined));
  }
  const login = loginOf(env.sender);
  const event: ForgeEvent = {
    ...base,
    repo,
    issue,
    ...(login ? { sender: { login, isBot: env.sender?.type === "Bot" } } : {}),
    ...(env.installation ? { installationId: env.installation.id } : {}),
  };
  // Only GitHub names the changed label; Gitea's label events are diffed against the stored set.
  if (headers.forge === "github" && env.label && (env.action === "labeled" || env.action === "unlabeled"))
    event.label = { name: env.label.name, change: env.action === "labeled" ? "added" : "removed" };
  if (headers.event === "issue_comment") {
    const comment = required(env.comment, "comment", headers);
    event.comment = {
      id: comment.id,
      body: comment.body ?? "",
      ...(comment.author_association ? { authorAssociation: comment.author_association } : {}),
    };
  }
  return checkedEvent(event);
}
