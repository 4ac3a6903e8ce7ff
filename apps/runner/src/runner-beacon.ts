import type { HostIdentity } from "./host-identity";

/**
 * What a runner publishes about itself in `<prefix>:runners` (a hash, id → this as JSON), so a peer can tell
 * whether it died and, if so, find its BullMQ jobs (their locks carry `workerId`) and check its agents are gone.
 */
export interface RunnerBeacon {
  id: string;
  /** The stage worker's BullMQ id: every job lock it holds reads `<workerId>:<n>`. */
  workerId: string;
  pid: number;
  /** /proc start time of `pid`: a recycled pid is not this runner. */
  startTime?: number;
  host: HostIdentity;
  /** Its pid registry (`<dataDir>/agents`): an entry of its pid there means an agent not yet verified gone. */
  registryDir: string;
  /** When it last beat (ms since epoch). */
  at: number;
}

/** Key of the set of runners that announced themselves (hash: id → RunnerBeacon JSON). */
export function runnersKey(prefix: string): string {
  return `${prefix}:runners`;
}

/** Key of one runner's heartbeat: present (PX heartbeatTtlMs) while it beats. */
export function heartbeatKey(prefix: string, id: string): string {
  return `${prefix}:runner:${id}`;
}

const str = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** Parses a beacon; undefined when a field is missing or mistyped (it then steers nothing). */
export function parseBeacon(raw: string): RunnerBeacon | undefined {
  let v: Partial<RunnerBeacon> & { host?: Partial<HostIdentity> };
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  if (!str(v.id) || !str(v.workerId) || !str(v.registryDir) || !Number.isInteger(v.pid) || (v.pid as number) <= 1)
    return undefined;
  if (v.startTime !== undefined && !Number.isInteger(v.startTime)) return undefined;
  if (typeof v.at !== "number") return undefined;
  const h = v.host;
  if (!h || typeof h.name !== "string" || typeof h.bootId !== "string" || typeof h.pidNs !== "string") return undefined;
  return v as RunnerBeacon;
}
