import type { EmulatorState } from "./emulator-state";

/** What a route handler sees. */
export interface RouteContext {
  method: string;
  /** Path inside the API (`/repos/o/r/…`), without the Gitea `/api/v1` prefix. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** The request's `accept` header ("" when absent): GitHub answers a PR as a diff for `application/vnd.github.diff`. */
  accept: string;
  /** Login of the token's user; routes with `auth: "token"` only run when set. */
  login: string;
  /** Raw bearer value (the app JWT for `auth: "jwt"` routes). */
  credential: string;
  /** Web origin of the emulated forge (for html_url and friends). */
  base: string;
  state: EmulatorState;
  emit(event: string, payload: unknown, eventType?: string): void;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  /** A plain-text answer instead of JSON `body` (content-type from `headers`, else text/plain). */
  text?: string;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  /** `/repos/:owner/:repo/pulls/:base/*head`: `:x` is one segment, `*x` the rest. */
  pattern: string;
  auth?: "token" | "jwt";
  handle(ctx: RouteContext): RouteResult | Promise<RouteResult>;
}

interface Compiled {
  route: Route;
  re: RegExp;
  names: string[];
}

/** Compiles routes once and matches `METHOD /path` to a handler plus decoded params. */
export function createRouter(routes: Route[]) {
  const compiled: Compiled[] = routes.map((route) => {
    const names: string[] = [];
    const source = route.pattern
      .split("/")
      .map((seg) => {
        if (seg.startsWith(":") && seg.includes(".")) {
          // `:index.:diffType` (Gitea's `{index}.{diffType}`): params split at the dot, literal parts kept.
          return seg
            .split(".")
            .map((part) => {
              if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
              names.push(part.slice(1));
              return "([^/.]+)";
            })
            .join("\\.");
        }
        if (seg.startsWith(":")) {
          names.push(seg.slice(1));
          return "([^/]+)";
        }
        if (seg.startsWith("*")) {
          names.push(seg.slice(1));
          return "(.+)";
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    return { route, re: new RegExp(`^${source}$`), names };
  });
  return function match(method: string, path: string): { route: Route; params: Record<string, string> } | null {
    for (const c of compiled) {
      if (c.route.method !== method) continue;
      const m = c.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] as string);
      });
      return { route: c.route, params };
    }
    return null;
  };
}

/** A JSON error body in the forge's style. */
export function fail(status: number, message: string, extra: Record<string, unknown> = {}): RouteResult {
  return { status, body: { message, ...extra } };
}
