import { isAbsolute } from "node:path";
import { z } from "zod";

const UNIT_BYTES: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `512m`, `2g`, `1.5G`, `1048576` (bytes; k/m/g/t are powers of 1024, an optional trailing `b`/`ib` is allowed). */
export function parseBytes(input: string | number): number {
  if (typeof input === "number") {
    if (!Number.isInteger(input) || input <= 0)
      throw new Error(`Expected a positive number of bytes, got \`${input}\``);
    return input;
  }
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(input.trim());
  if (!m) throw new Error(`Expected a size like \`512m\` or \`2g\`, got \`${input}\``);
  const bytes = Math.round(Number(m[1]) * (UNIT_BYTES[(m[2] ?? "").toLowerCase()] as number));
  if (bytes <= 0) throw new Error(`Expected a size > 0, got \`${input}\``);
  return bytes;
}

/** A byte size: a positive integer, or text like `2g` (zod: the issue names the field and the bad value). */
export const ByteSize = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseBytes(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const AbsPath = z.string().refine((p) => isAbsolute(p) && p !== "/", "must be an absolute path (and not /)");
/** `host:port`, `*.suffix:port` or `[ipv6]:port` — what the egress proxy allows. */
const HostPort = z
  .string()
  .regex(
    /^(?:(?:\*\.)?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\]):(?:[1-9]\d{0,4})$/,
    "use host:port, e.g. api.anthropic.com:443 or *.npmjs.org:443",
  )
  .refine((s) => Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, "port must be 1-65535");

/**
 * Per-agent sandbox (issue 12). On by default: the agent and the stage's gate run in bubblewrap, as an
 * unprivileged user, with only the worktree (and `writable`) writable and egress only to an allowlist.
 */
export const AgentSandbox = z
  .object({
    /** `false` is the explicit escape hatch: the agent runs as the runner ("⚠ unsandboxed" everywhere). */
    enabled: z.boolean().default(true),
    /** Directories the agent may write besides the worktree (a package cache, an output dir), at their own path. */
    writable: z.array(AbsPath).default([]),
    /** Extra paths shown read-only (a tool dir the agent's executable and argv do not name). */
    readOnly: z.array(AbsPath).default([]),
    network: z
      .object({
        /** Egress targets on top of the defaults (the agent CLI's vendor API, hosts of `*_BASE_URL` env values). */
        allow: z.array(HostPort).default([]),
      })
      .strict()
      .default(() => ({ allow: [] })),
    /** Files or dirs copied into the agent's HOME at every run start (`~/x` = the runner's HOME/x). */
    home: z
      .array(z.string().refine((p) => p.startsWith("~/") || isAbsolute(p), "use ~/… or an absolute path"))
      .default([]),
    /** Who the agent runs as when the runner is root. @defaultValue forgehand-agent, else nobody (65534) */
    user: z
      .union([z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/i, "a user name or numeric uid"), z.number().int().positive()])
      .optional(),
  })
  .strict();
export type AgentSandbox = z.infer<typeof AgentSandbox>;

/** A fresh default (never shared: a caller may change its lists). */
export const defaultAgentSandbox = (): AgentSandbox => ({
  enabled: true,
  writable: [],
  readOnly: [],
  network: { allow: [] },
  home: [],
});
