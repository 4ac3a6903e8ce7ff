import type { ForgeEvent, ForgeId } from "@forgehand/core";

/** What the headers of one delivery say, before the body is trusted. */
export interface DeliveryHeaders {
  forge: ForgeId;
  flavour: ForgeEvent["flavour"];
  /** Coarse event name (`issues`, `issue_comment`, `pull_request`, `ping`, …). */
  event: string;
  /** Gitea's raw hook type (`issue_label`, `pull_request_comment`, …); absent on GitHub. */
  eventType?: string;
  deliveryId: string;
  /** Bare lowercase hex, or "" when the forge sent none (Gitea sends empty headers when no secret is set). */
  signature: string;
}

/** What is read from request headers: a `Headers`, or a lookup over Node's (lowercase names). */
export type HeaderLookup = Pick<Headers, "get">;

/** A delivery that cannot be read as one: answered 400. */
export class BadDeliveryError extends Error {
  override name = "BadDeliveryError";
}

// Delivery ids become Redis keys and BullMQ job ids: keep them short and printable.
const DELIVERY_ID = /^[A-Za-z0-9._-]{1,128}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

function stripSha256(value: string | null): string {
  return (value ?? "").trim().replace(/^sha256=/i, "");
}

/**
 * Reads the delivery headers for the forge the route is for. Gitea and Forgejo also send
 * `X-GitHub-*` copies, so the Forgejo and Gitea headers are looked at first (docs/FORGES.md §0).
 */
export function readDeliveryHeaders(route: ForgeId, headers: HeaderLookup): DeliveryHeaders {
  const forgejo = headers.get("x-forgejo-event");
  const gitea = headers.get("x-gitea-event");
  if (route === "github" && (forgejo || gitea))
    throw new BadDeliveryError(
      `[webhook] this is a ${forgejo ? "Forgejo" : "Gitea"} delivery (event \`${forgejo ?? gitea}\`); point the hook at /webhooks/gitea`,
    );
  let out: Omit<DeliveryHeaders, "deliveryId" | "event"> & { event: string | null; deliveryId: string | null };
  if (route === "gitea") {
    const flavour = forgejo ? "forgejo" : "gitea";
    const h = (name: string) => headers.get(`x-${flavour}-${name}`) ?? headers.get(`x-gitea-${name}`);
    out = {
      forge: "gitea",
      flavour,
      event: forgejo ?? gitea,
      eventType: h("event-type") ?? undefined,
      deliveryId: h("delivery"),
      signature: (h("signature") ?? "").trim() || stripSha256(headers.get("x-hub-signature-256")),
    };
    if (!out.event) throw new BadDeliveryError("[webhook] missing X-Gitea-Event (or X-Forgejo-Event) header");
  } else {
    out = {
      forge: "github",
      flavour: "github",
      event: headers.get("x-github-event"),
      deliveryId: headers.get("x-github-delivery"),
      signature: stripSha256(headers.get("x-hub-signature-256")),
    };
    if (!out.event) throw new BadDeliveryError("[webhook] missing X-GitHub-Event header");
  }
  if (!EVENT_NAME.test(out.event))
    throw new BadDeliveryError(`[webhook] event header \`${out.event.slice(0, 80)}\` is not an event name`);
  if (!out.deliveryId) throw new BadDeliveryError(`[webhook] missing delivery id header for ${out.flavour}`);
  if (!DELIVERY_ID.test(out.deliveryId))
    throw new BadDeliveryError(`[webhook] delivery id \`${out.deliveryId.slice(0, 80)}\` is not a GUID-like id`);
  return { ...out, event: out.event, deliveryId: out.deliveryId };
}
