import { createVerify, type KeyObject } from "node:crypto";

/** Claims of a GitHub App JWT. */
export interface AppJwtClaims {
  iat: number;
  exp: number;
  iss: string | number;
}

/**
 * Verifies an RS256 app JWT the way GitHub does: signature with the app's public key,
 * `exp` in the future, `exp - iat` at most 10 minutes (plus the allowed 60 s back-dating).
 * Returns the claims or a reason it was rejected.
 */
export function verifyAppJwt(
  jwt: string,
  publicKey: KeyObject | string,
  nowSec = Math.floor(Date.now() / 1000),
): { ok: true; claims: AppJwtClaims } | { ok: false; reason: string } {
  const parts = jwt.split(".");
  if (parts.length !== 3) return { ok: false, reason: "not a JWT" };
  const [h, p, sig] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: AppJwtClaims;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "unreadable JWT" };
  }
  if (header.alg !== "RS256") return { ok: false, reason: `alg ${header.alg} is not RS256` };
  const verifier = createVerify("RSA-SHA256");
  verifier.update(`${h}.${p}`);
  if (!verifier.verify(publicKey, Buffer.from(sig, "base64url"))) return { ok: false, reason: "bad signature" };
  if (typeof claims.exp !== "number" || claims.exp <= nowSec) return { ok: false, reason: "'exp' is in the past" };
  if (typeof claims.iat !== "number" || claims.iat > nowSec + 60)
    return { ok: false, reason: "'iat' is in the future" };
  if (claims.exp - claims.iat > 660) return { ok: false, reason: "'exp' is too far in the future" };
  return { ok: true, claims };
}
