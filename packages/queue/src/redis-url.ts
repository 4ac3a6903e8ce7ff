import type { RedisOptions } from "ioredis";

/** One Redis (or a TLS one), a Sentinel-managed primary, or a Redis Cluster, as `REDIS_URL` names it. */
export type RedisTarget =
  | { kind: "single"; url: string; replicaAcks: number }
  | {
      kind: "sentinel";
      sentinels: { host: string; port: number }[];
      /** The primary's name as the sentinels know it (`sentinel monitor <name> …`). */
      name: string;
      options: RedisOptions;
      /** Replicas that must acknowledge an accepted delivery or a lease (`WAIT`). */
      replicaAcks: number;
    }
  | { kind: "cluster"; nodes: { host: string; port: number }[]; options: RedisOptions; replicaAcks: number };

/** A REDIS_URL forgehand cannot use; the message says which part is wrong (never the password). */
export class RedisUrlError extends Error {
  override name = "RedisUrlError";
}

const SENTINEL = "redis+sentinel:";
const CLUSTER = "redis+cluster:";

function hostList(spec: string, defaultPort: number, scheme: string): { host: string; port: number }[] {
  const hosts = spec.split(",").map((part) => {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(part.trim());
    if (!m?.[1]) throw new RedisUrlError(`[redis] ${scheme}// host "${part}" is not host[:port]`);
    const port = m[2] ? Number(m[2]) : defaultPort;
    if (port < 1 || port > 65535) throw new RedisUrlError(`[redis] ${scheme}// port ${port} is out of range`);
    return { host: m[1].replace(/^\[|\]$/g, ""), port };
  });
  if (hosts.length === 0) throw new RedisUrlError(`[redis] ${scheme}// names no host`);
  return hosts;
}

function intParam(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new RedisUrlError(`[redis] REDIS_URL parameter ${name}=${raw} must be an integer ${min}-${max}`);
  return Number(raw);
}

/**
 * Parses REDIS_URL. Besides `redis://` and `rediss://` (given to ioredis as they are):
 * - `redis+sentinel://[:password@]host:26379,host2:26379/<primary name>[?db=0&sentinelPassword=…&wait=1]`
 * - `redis+cluster://[:password@]host:6379,host2:6379[?wait=0]`
 * `wait` is how many replicas must confirm a write before forgehand counts it accepted (Redis replicates
 * asynchronously: without it a failover right after a 202 could drop that delivery). Default 1 under
 * Sentinel (it exists to have replicas), 0 otherwise.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
  if (scheme !== SENTINEL && scheme !== CLUSTER) {
    if (scheme !== "redis:" && scheme !== "rediss:" && scheme !== "unix:")
      throw new RedisUrlError(
        `[redis] REDIS_URL must start with redis://, rediss://, unix://, redis+sentinel:// or redis+cluster:// (got "${scheme}")`,
      );
    const params = URL.canParse(url) ? new URL(url).searchParams : new URLSearchParams();
    return { kind: "single", url, replicaAcks: intParam(params, "wait", 0, 16) ?? 0 };
  }
  const rest = url.slice(scheme.length).replace(/^\/\//, "");
  const [beforeQuery = "", query = ""] = rest.split("?", 2);
  const params = new URLSearchParams(query);
  const at = beforeQuery.lastIndexOf("@");
  const auth = at >= 0 ? beforeQuery.slice(0, at) : "";
  const [hostsPart = "", ...pathParts] = beforeQuery.slice(at + 1).split("/");
  const colon = auth.indexOf(":");
  const username = colon >= 0 ? decodeURIComponent(auth.slice(0, colon)) : "";
  const password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : decodeURIComponent(auth);
  const options: RedisOptions = {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
  if (scheme === SENTINEL) {
    const name = decodeURIComponent(pathParts[0] ?? "");
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(name))
      throw new RedisUrlError("[redis] redis+sentinel:// needs the primary's name as its path (…/mymaster)");
    const db = intParam(params, "db", 0, 15);
    const sentinelPassword = params.get("sentinelPassword");
    return {
      kind: "sentinel",
      sentinels: hostList(hostsPart, 26379, scheme),
      name,
      options: { ...options, ...(db !== undefined ? { db } : {}), ...(sentinelPassword ? { sentinelPassword } : {}) },
      replicaAcks: intParam(params, "wait", 0, 16) ?? 1,
    };
  }
  if (pathParts.some((p) => p !== ""))
    throw new RedisUrlError("[redis] redis+cluster:// has no database path (a cluster has only db 0)");
  return {
    kind: "cluster",
    nodes: hostList(hostsPart, 6379, scheme),
    options,
    replicaAcks: intParam(params, "wait", 0, 16) ?? 0,
  };
}

/**
 * The key prefix to use on `url`: on a Cluster every Lua script and MULTI of forgehand and BullMQ must touch keys
 * of one slot, so a prefix without a `{hash-tag}` is wrapped in one (`forgehand` → `{forgehand}`).
 */
export function prefixFor(url: string | undefined, prefix: string): string {
  if (!url?.toLowerCase().startsWith(CLUSTER) || /\{[^{}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}
