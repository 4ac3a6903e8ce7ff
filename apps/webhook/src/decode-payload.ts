import type { ForgeId } from "@forgehand/core";
import { BadDeliveryError } from "./delivery-headers";

/** A delivery body split into the bytes the forge signed and the JSON text to parse. */
export interface DecodedPayload {
  signed: Buffer;
  text: string;
}

/**
 * Finds the signed bytes and the JSON text of a body. In form mode GitHub signs the wire body,
 * while Gitea/Forgejo sign the decoded `payload=` value (docs/FORGES.md §1.2). Only cheap structural
 * checks happen here: the JSON itself is parsed after the signature is verified.
 */
export function decodePayload(forge: ForgeId, contentType: string | null, raw: Buffer): DecodedPayload {
  const mime = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  let decoded: DecodedPayload;
  if (mime === "application/json") {
    decoded = { signed: raw, text: raw.toString("utf8") };
  } else if (mime === "application/x-www-form-urlencoded") {
    const payload = new URLSearchParams(raw.toString("utf8")).get("payload");
    if (payload === null) throw new BadDeliveryError("[webhook] form body has no `payload=` field");
    decoded = { signed: forge === "gitea" ? Buffer.from(payload, "utf8") : raw, text: payload };
  } else {
    throw new BadDeliveryError(
      `[webhook] content type \`${mime.slice(0, 80) || "(none)"}\` is not application/json or application/x-www-form-urlencoded`,
    );
  }
  if (!/^\s*\{/.test(decoded.text.slice(0, 1024))) throw new BadDeliveryError("[webhook] body is not a JSON object");
  return decoded;
}

/** Parses the (already verified) JSON text; only a JSON object is a payload. */
export function parsePayloadJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadDeliveryError(`[webhook] body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BadDeliveryError(
      `[webhook] body is JSON but not an object (got ${Array.isArray(value) ? "array" : typeof value})`,
    );
  return value as Record<string, unknown>;
}
