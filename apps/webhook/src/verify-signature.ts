import { createHmac, timingSafeEqual } from "node:crypto";

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Whether a signature header value (bare hex) could be a SHA-256 HMAC at all: checked before the body is read. */
export function isSignatureShaped(signatureHex: string): boolean {
  return HEX64.test(signatureHex);
}

/**
 * Checks an HMAC-SHA256 signature (bare hex) over the exact signed bytes in constant time.
 * No secret or no signature is always a failure: an unsigned delivery is never trusted.
 */
export function verifySignature(secret: string | undefined, signed: Buffer, signatureHex: string): boolean {
  if (!secret || !HEX64.test(signatureHex)) return false;
  const want = createHmac("sha256", secret).update(signed).digest();
  return timingSafeEqual(want, Buffer.from(signatureHex, "hex"));
}

/** Signs bytes as GitHub and Gitea do (bare lowercase hex); used by tests and `forgehand replay`. */
export function signPayload(secret: string, bytes: Buffer | string): string {
  return createHmac("sha256", secret).update(bytes).digest("hex");
}
