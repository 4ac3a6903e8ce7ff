import { createHmac, timingSafeEqual } from "node:crypto";

/** Default lifetime of a signed run link (`status.linkTtl`): a week, long enough to read a finished run. */
export const DEFAULT_LINK_TTL_MS = 7 * 86_400_000;

/** Why a signed link was refused; `ok` when it opens the run. */
export type RunLinkCheck = "ok" | "expired" | "bad";

/** HMAC-SHA256 (hex) of `<runId>.<exp>`: the signature binds the run and the expiry, so neither can be edited. */
export function signRunLink(runId: string, exp: number, secret: string): string {
  if (!secret) throw new Error("[run-link] Expected a non-empty link secret");
  return createHmac("sha256", secret).update(`run-link\0${runId}\0${exp}`).digest("hex");
}

/** Checks `sig`/`exp` (as they came in the query string) for `runId`, in constant time. */
export function verifyRunLink(
  runId: string,
  sig: string | undefined,
  exp: string | undefined,
  secret: string,
  now = Date.now(),
): RunLinkCheck {
  if (!sig || !exp || !/^\d{1,16}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) return "bad";
  const want = Buffer.from(signRunLink(runId, Number(exp), secret), "hex");
  if (!timingSafeEqual(want, Buffer.from(sig, "hex"))) return "bad";
  // Checked after the signature, so an attacker learns nothing about expiries of links they did not get.
  return Number(exp) * 1000 <= now ? "expired" : "ok";
}

/**
 * The page a status comment links to: `<publicUrl>/runs/<id>?exp=<unix seconds>&sig=<hmac>`. The expiry is
 * rounded up to the hour so the comment's body (and its link) stays the same across the edits of one run.
 */
export function signedRunUrl(
  publicUrl: string,
  runId: string,
  secret: string,
  ttlMs: number,
  now = Date.now(),
): string {
  const exp = Math.ceil((now + ttlMs) / 3_600_000) * 3_600;
  const base = publicUrl.replace(/\/+$/, "");
  return `${base}/runs/${encodeURIComponent(runId)}?exp=${exp}&sig=${signRunLink(runId, exp, secret)}`;
}
