import { createHmac, randomUUID } from "node:crypto";

/** Gitea's fine event types (X-Gitea-Event-Type) and the coarse X-Gitea-Event each is sent under. */
const GITEA_COARSE: Record<string, string> = {
  issue_label: "issues",
  issue_assign: "issues",
  issue_milestone: "issues",
  pull_request_label: "pull_request",
  pull_request_assign: "pull_request",
  pull_request_milestone: "pull_request",
  pull_request_sync: "pull_request",
  pull_request_comment: "issue_comment",
  pull_request_review_comment: "pull_request_comment",
  pull_request_review_approved: "pull_request_approved",
  pull_request_review_rejected: "pull_request_rejected",
};

/** What `forgehand replay` sends: the file's exact bytes and the headers the forge would add. */
export interface SignedDelivery {
  headers: Record<string, string>;
  deliveryId: string;
}

/**
 * Signs a payload as the forge does: HMAC-SHA256 over the exact bytes. GitHub sends
 * `sha256=<hex>`; Gitea sends bare hex plus its GitHub-compatible copies (docs/FORGES.md §1.1).
 * For Gitea, `event` may be a coarse event (`issues`) or a fine type (`issue_label`).
 */
export function signDelivery(options: {
  forge: "github" | "gitea";
  event: string;
  body: Uint8Array;
  secret: string;
  deliveryId?: string;
}): SignedDelivery {
  const deliveryId = options.deliveryId ?? randomUUID();
  const hex = createHmac("sha256", options.secret).update(options.body).digest("hex");
  const base = { "content-type": "application/json", "user-agent": "forgehand-replay" };
  if (options.forge === "github")
    return {
      deliveryId,
      headers: {
        ...base,
        "x-github-event": options.event,
        "x-github-delivery": deliveryId,
        "x-hub-signature-256": `sha256=${hex}`,
      },
    };
  const coarse = GITEA_COARSE[options.event] ?? options.event;
  return {
    deliveryId,
    headers: {
      ...base,
      "x-gitea-event": coarse,
      "x-gitea-event-type": options.event,
      "x-gitea-delivery": deliveryId,
      "x-gitea-signature": hex,
      "x-github-event": coarse,
      "x-github-event-type": options.event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": `sha256=${hex}`,
    },
  };
}
