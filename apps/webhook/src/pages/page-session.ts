import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Name of the operator session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "fh_session";
/** How long a login lasts. */
export const SESSION_TTL_S = 12 * 3600;

function mac(secret: string, ...parts: string[]): string {
  return createHmac("sha256", secret).update(parts.join("\0")).digest("base64url");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Operator sessions without server state: the cookie is `<exp>.<hmac(secret, exp, sha256(apiToken))>`, so it
 * stops working when it expires, when the link secret changes, or when `FORGEHAND_API_TOKEN` is rotated.
 * The CSRF token of a session is an HMAC of its cookie: a page of another origin can read neither.
 */
export interface PageSessions {
  /** True when `token` is the API token (constant time). */
  checkToken(token: string): boolean;
  issue(now?: number): string;
  valid(cookie: string | undefined, now?: number): boolean;
  csrfFor(cookie: string): string;
  checkCsrf(cookie: string, csrf: string | undefined): boolean;
}

export function createPageSessions(secret: string, apiToken: string): PageSessions {
  const tokenHash = createHash("sha256").update(apiToken).digest("base64url");
  const sign = (exp: string) => mac(secret, "session", exp, tokenHash);
  return {
    checkToken: (token) => same(createHash("sha256").update(token).digest("base64url"), tokenHash),
    issue(now = Date.now()) {
      const exp = String(Math.floor(now / 1000) + SESSION_TTL_S);
      return `${exp}.${sign(exp)}`;
    },
    valid(cookie, now = Date.now()) {
      const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(cookie ?? "");
      if (!m?.[1] || !m[2] || !same(m[2], sign(m[1]))) return false;
      return Number(m[1]) * 1000 > now;
    },
    csrfFor: (cookie) => mac(secret, "csrf", cookie),
    checkCsrf: (cookie, csrf) => typeof csrf === "string" && same(csrf, mac(secret, "csrf", cookie)),
  };
}
