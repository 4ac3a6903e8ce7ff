import { createHmac, randomUUID } from "node:crypto";

/** One outgoing delivery and how the receiver answered. */
export interface EmulatedDelivery {
  id: string;
  event: string;
  /** Gitea's fine-grained type (`issue_label`, …); GitHub deliveries have none. */
  eventType?: string;
  payload: unknown;
  status?: number;
  error?: string;
}

export interface WebhookTarget {
  url: string;
  secret: string;
}

/**
 * Signs and POSTs deliveries like the real forges do: GitHub signs the compact JSON
 * with `x-hub-signature-256`; Gitea pretty-prints (2 spaces) and sends `X-Gitea-*`
 * headers plus the GitHub-compatible copies (Forgejo adds `X-Forgejo-*`).
 */
export function createWebhookSender(flavour: "github" | "gitea" | "forgejo", target: WebhookTarget | undefined) {
  const deliveries: EmulatedDelivery[] = [];
  const pending = new Set<Promise<void>>();

  function send(event: string, payload: unknown, eventType?: string): EmulatedDelivery {
    const delivery: EmulatedDelivery = { id: randomUUID(), event, eventType, payload };
    deliveries.push(delivery);
    if (!target) return delivery;
    const body = flavour === "github" ? JSON.stringify(payload) : JSON.stringify(payload, null, 2);
    const hex = createHmac("sha256", target.secret).update(body).digest("hex");
    const sha1 = createHmac("sha1", target.secret).update(body).digest("hex");
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (flavour === "github") {
      Object.assign(headers, {
        "user-agent": "GitHub-Hookshot/emulator",
        "x-github-event": event,
        "x-github-delivery": delivery.id,
        "x-hub-signature-256": `sha256=${hex}`,
      });
    } else {
      const type = eventType ?? event;
      Object.assign(headers, {
        "user-agent": "Go-http-client/1.1",
        "x-gitea-event": event,
        "x-gitea-event-type": type,
        "x-gitea-delivery": delivery.id,
        "x-gitea-signature": hex,
        "x-github-event": event,
        "x-github-event-type": type,
        "x-github-delivery": delivery.id,
        "x-hub-signature": `sha1=${sha1}`,
        "x-hub-signature-256": `sha256=${hex}`,
        "x-gogs-event": event,
        "x-gogs-event-type": type,
        "x-gogs-delivery": delivery.id,
        "x-gogs-signature": hex,
      });
      if (flavour === "forgejo")
        Object.assign(headers, {
          "x-forgejo-event": event,
          "x-forgejo-event-type": type,
          "x-forgejo-delivery": delivery.id,
          "x-forgejo-signature": hex,
        });
    }
    const p = fetch(target.url, { method: "POST", headers, body })
      .then(async (res) => {
        delivery.status = res.status;
        await res.arrayBuffer();
      })
      .catch((error: unknown) => {
        delivery.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => pending.delete(p));
    pending.add(p);
    return delivery;
  }

  /** Resolves when every delivery sent so far has been answered (or failed). */
  async function settled(): Promise<void> {
    while (pending.size) await Promise.all([...pending]);
  }

  return { deliveries, send, settled };
}
