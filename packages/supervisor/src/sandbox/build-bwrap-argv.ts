import { isAbsolute, normalize } from "node:path";

/** A system directory of the host shown read-only: bound, or (merged-/usr hosts) recreated as the same symlink. */
export interface SystemPath {
  path: string;
  /** When the host path is a symlink (`/bin -> usr/bin`), its target: recreated with `--symlink`, not bound. */
  symlink?: string;
}

/** A path inside a visible tree that must not be seen: a dir becomes an empty tmpfs, a file /dev/null. */
export interface MaskPath {
  path: string;
  kind: "dir" | "file";
}

/** How the worktree's git metadata is exposed. */
export type GitExposure =
  /** `binds` (the worktree's gitdir and the mirror's config/HEAD/objects/refs/…) bound read-only at their paths. */
  | { mode: "read-only"; binds: string[]; optionalBinds?: string[] }
  /** The worktree's `.git` (file or dir) masked: the agent sees no repository at all. */
  | { mode: "hidden"; kind: "dir" | "file" };

/** Everything the bwrap command line is made of; every path absolute, resolved on the host by the caller. */
export interface BwrapSpec {
  /** The bwrap executable. */
  bwrap: string;
  /** The run's worktree: bound read-write at its own path, and the working directory. */
  worktree: string;
  /** Extra read-write directories, each bound at its own path. */
  writable: string[];
  /** Extra read-only paths (the agent's executable and install tree, absolute argv paths), each at its own path. */
  readOnly: string[];
  /** System directories, read-only (see `SystemPath`). */
  system: SystemPath[];
  /** Paths hidden inside visible trees (the config dir when it lives under /etc, …). */
  masks: MaskPath[];
  /** The worktree's git metadata (see `GitExposure`); absent when the worktree is not a git checkout. */
  git?: GitExposure;
  /** The private HOME: a per-run host dir bound read-write at `path`. */
  home: { hostDir: string; path: string };
  /** Per-run dir with the proxy socket and the init's env file, bound read-only at `path`. */
  runDir: { hostDir: string; path: string };
  /**
   * The in-sandbox init, bound read-only at `path`: forgehand's node init (sandbox-init.mjs: spawns the agent), or
   * the fast perl init (sandbox-init.pl: `exec`s the agent; root runner: `setpriv` drops to `dropTo` before it;
   * its egress bridge is `node bridge.hostScript`, bound at `bridge.path`). Interpreters must be visible read-only.
   */
  init: { node: string; hostScript: string; path: string; fast?: FastInit };
  /**
   * Runner not root: `--unshare-user` mapping the agent to this (the runner's own) uid/gid.
   * Runner root: `null` — bwrap keeps the init namespace (it mounts as real root), drops every capability but
   * SETUID/SETGID, and the init drops to `dropTo` before anything else runs.
   */
  userns: { uid: number; gid: number } | null;
  /** Root runner only: the unprivileged uid/gid the init switches to (setgroups([]), setgid, setuid). */
  dropTo?: { uid: number; gid: number };
  /** In-sandbox path of the env file the init reads (bwrap itself gets `--clearenv` and no values on argv). */
  envFile: string;
  /** The egress bridge: the init listens on 127.0.0.1:`port` and forwards to the unix socket at `socket`. */
  proxy?: { socket: string; port: number };
  hostname?: string;
  /** The agent's argv, run by the init. */
  command: string[];
}

/** What the fast init needs (see `BwrapSpec.init`). */
export interface FastInit {
  perl: string;
  /** Root runner only: util-linux `setpriv`, which switches to `dropTo` before the init runs. */
  setpriv?: string;
  bridge: { hostScript: string; path: string };
}

/** Paths that must never be bound into a sandbox: bwrap would make them visible (or the sandbox meaningless). */
const FORBIDDEN_BINDS = ["/", "/proc", "/sys", "/dev", "/run", "/root", "/home", "/var", "/tmp"];

/**
 * The bwrap command line (`[bwrap, ...flags, "--", node, init, ...initArgs, "--", ...command]`) for `spec`.
 * Pure: no file system access; the caller resolves symlinks, gitdirs and the identity. The order matters —
 * later mounts cover earlier ones: system dirs, /proc, /dev, /tmp, read-only extras, writable dirs, the worktree,
 * then the read-only git metadata and the `.git` file on top, masks, HOME and the run dir last.
 */
export function buildBwrapArgv(spec: BwrapSpec): string[] {
  const abs = (p: string, what: string) => {
    if (!isAbsolute(p)) throw new TypeError(`[sandbox] ${what} must be an absolute path, got \`${p}\``);
    const n = normalize(p);
    return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
  };
  const worktree = abs(spec.worktree, "worktree");
  const writable = spec.writable.map((p) => abs(p, "writable path"));
  for (const p of [worktree, ...writable]) {
    if (FORBIDDEN_BINDS.includes(p)) throw new TypeError(`[sandbox] refusing to bind \`${p}\` read-write`);
  }
  if (spec.command.length === 0) throw new TypeError("[sandbox] Expected a non-empty command");
  if (spec.userns === null && !spec.dropTo) {
    throw new TypeError("[sandbox] a root runner needs `dropTo` (the unprivileged agent uid/gid)");
  }
  if (spec.dropTo && spec.dropTo.uid === 0) throw new TypeError("[sandbox] refusing to run the agent as uid 0");
  const rw = [worktree, ...writable];
  const insideWritable = (p: string) => rw.some((w) => p === w || p.startsWith(`${w}/`));

  const a: string[] = [spec.bwrap];
  if (spec.userns) a.push("--unshare-user", "--uid", String(spec.userns.uid), "--gid", String(spec.userns.gid));
  a.push(
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-net",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
  );
  if (spec.userns) {
    // Nested user namespaces would let the agent build its own mount tree (harmless, but nothing needs it).
    a.push("--disable-userns");
  } else {
    // Real root sets the sandbox up; the init keeps only what it needs to drop to the agent uid.
    a.push("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID");
  }
  if (spec.hostname) a.push("--hostname", spec.hostname);

  // bwrap's root is its own tmpfs: a mount point's missing parents would be made root-only (0700), so a
  // dropped-privilege agent could not reach its own worktree by path. Parents are made 0755 first; a parent
  // inside a tree bound from the host exists there already (with the host's permissions).
  const hostTrees: string[] = [];
  const made = new Set<string>(["/"]);
  const within = (p: string, dir: string) => p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`);
  const parents = (dest: string) => {
    let cur = "";
    for (const part of dest.split("/").filter(Boolean).slice(0, -1)) {
      cur += `/${part}`;
      if (made.has(cur) || hostTrees.some((t) => within(cur, t))) continue;
      a.push("--perms", "0755", "--dir", cur);
      made.add(cur);
    }
  };
  const bind = (flag: string, src: string, dest: string) => {
    parents(dest);
    a.push(flag, src, dest);
    hostTrees.push(dest);
  };
  const ours = (dest: string, ...op: string[]) => {
    parents(dest);
    a.push(...op, dest);
    made.add(dest);
  };

  for (const s of spec.system) {
    const p = abs(s.path, "system path");
    if (s.symlink !== undefined) ours(p, "--symlink", s.symlink);
    else bind("--ro-bind", p, p);
  }
  ours("/proc", "--proc");
  ours("/dev", "--dev");
  ours("/tmp", "--perms", "1777", "--tmpfs");

  const seen = new Set<string>();
  for (const raw of spec.readOnly) {
    const p = abs(raw, "read-only path");
    // Inside the worktree or a writable dir it stays writable (binding it read-only would take that away).
    if (seen.has(p) || insideWritable(p) || p === "/") continue;
    seen.add(p);
    bind("--ro-bind", p, p);
  }
  for (const p of writable) bind("--bind", p, p);
  bind("--bind", worktree, worktree);

  if (spec.git?.mode === "read-only") {
    for (const p of spec.git.binds) bind("--ro-bind", abs(p, "git path"), abs(p, "git path"));
    for (const p of spec.git.optionalBinds ?? []) bind("--ro-bind-try", abs(p, "git path"), abs(p, "git path"));
    // The `.git` file names the gitdir the runner's own git will follow later: it must not be rewritten.
    bind("--ro-bind", `${worktree}/.git`, `${worktree}/.git`);
  } else if (spec.git?.mode === "hidden") {
    a.push(...mask({ path: `${worktree}/.git`, kind: spec.git.kind }));
  }
  for (const m of spec.masks) a.push(...mask({ path: abs(m.path, "masked path"), kind: m.kind }));

  const home = abs(spec.home.path, "HOME");
  bind("--bind", abs(spec.home.hostDir, "HOME dir"), home);
  const runDir = abs(spec.runDir.path, "run dir");
  bind("--ro-bind", abs(spec.runDir.hostDir, "run dir"), runDir);
  const initPath = abs(spec.init.path, "init path");
  bind("--ro-bind", abs(spec.init.hostScript, "init script"), initPath);
  const fast = spec.init.fast;
  const bridgePath = fast ? abs(fast.bridge.path, "bridge path") : "";
  if (fast) bind("--ro-bind", abs(fast.bridge.hostScript, "bridge script"), bridgePath);
  a.push("--chdir", worktree, "--");

  const node = abs(spec.init.node, "node");
  if (!fast) {
    a.push(node, initPath, "--env-file", spec.envFile);
    if (spec.dropTo) a.push("--uid", String(spec.dropTo.uid), "--gid", String(spec.dropTo.gid));
    if (spec.proxy) a.push("--proxy-socket", spec.proxy.socket, "--proxy-port", String(spec.proxy.port));
    a.push("--", ...spec.command);
    return a;
  }
  if (spec.dropTo) {
    if (!fast.setpriv) throw new TypeError("[sandbox] the fast init of a root runner needs `setpriv`");
    const { uid, gid } = spec.dropTo;
    // Inheritable capabilities cleared too (and so the ambient ones): nothing survives into an exec'd file.
    a.push(abs(fast.setpriv, "setpriv"), `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--inh-caps=-all");
    a.push("--");
  }
  a.push(abs(fast.perl, "perl"), initPath, "--env-file", spec.envFile);
  if (spec.dropTo) a.push("--uid", String(spec.dropTo.uid), "--gid", String(spec.dropTo.gid));
  if (spec.proxy) {
    a.push("--proxy-port", String(spec.proxy.port), "--bridge", node, bridgePath, "--proxy-socket", spec.proxy.socket);
  }
  a.push("--", ...spec.command);
  return a;
}

function mask(m: MaskPath): string[] {
  return m.kind === "dir" ? ["--tmpfs", m.path] : ["--ro-bind", "/dev/null", m.path];
}
