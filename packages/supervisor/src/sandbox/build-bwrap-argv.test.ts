import { describe, expect, it } from "vitest";
import { type BwrapSpec, buildBwrapArgv } from "./build-bwrap-argv";

const base = (over: Partial<BwrapSpec> = {}): BwrapSpec => ({
  bwrap: "/usr/bin/bwrap",
  worktree: "/data/worktrees/o-r-1",
  writable: [],
  readOnly: [],
  system: [{ path: "/usr" }, { path: "/bin", symlink: "usr/bin" }, { path: "/etc" }],
  masks: [],
  home: { hostDir: "/tmp/fh-run/home", path: "/home/agent" },
  runDir: { hostDir: "/tmp/fh-run/run", path: "/run/forgehand" },
  init: { node: "/usr/bin/node", hostScript: "/app/sandbox-init.mjs", path: "/run/forgehand-init.mjs" },
  userns: null,
  dropTo: { uid: 65534, gid: 65534 },
  envFile: "/run/forgehand/env.json",
  proxy: { socket: "/run/forgehand/proxy.sock", port: 3128 },
  command: ["claude", "-p", "hi"],
  ...over,
});

/** [flag, src, dest] triples of every bind in argv. */
function binds(argv: string[]): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  const end = argv.indexOf("--");
  for (let i = 0; i < end; i++) {
    if (/^--(ro-)?bind(-try)?$/.test(argv[i]!)) out.push([argv[i]!, argv[i + 1]!, argv[i + 2]!]);
  }
  return out;
}
const bwrapPart = (argv: string[]) => argv.slice(0, argv.indexOf("--"));

describe("buildBwrapArgv", () => {
  it("isolates every namespace, clears the environment and dies with its parent", () => {
    const argv = bwrapPart(buildBwrapArgv(base()));
    for (const flag of [
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-net",
      "--unshare-cgroup-try",
      "--die-with-parent",
      "--new-session",
      "--clearenv",
    ]) {
      expect(argv).toContain(flag);
    }
    expect(argv.join(" ")).toContain("--proc /proc");
    expect(argv.join(" ")).toContain("--dev /dev");
    expect(argv.join(" ")).toContain("--perms 1777 --tmpfs /tmp");
    // No --setenv at all: values never reach a command line (the init reads them from the env file).
    expect(argv).not.toContain("--setenv");
  });

  it("root runner: no user namespace, all capabilities dropped but SETUID/SETGID, the init drops to the agent uid", () => {
    const argv = buildBwrapArgv(base());
    const head = bwrapPart(argv);
    expect(head).not.toContain("--unshare-user");
    expect(head.join(" ")).toContain("--cap-drop ALL --cap-add CAP_SETUID --cap-add CAP_SETGID");
    const init = argv.slice(argv.indexOf("--") + 1);
    expect(init.slice(0, 2)).toEqual(["/usr/bin/node", "/run/forgehand-init.mjs"]);
    expect(init.join(" ")).toContain("--uid 65534 --gid 65534");
    expect(init.join(" ")).toContain("--proxy-socket /run/forgehand/proxy.sock --proxy-port 3128");
    expect(argv.slice(-3)).toEqual(["claude", "-p", "hi"]);
  });

  it("fast init: setpriv drops to the agent (groups and inheritable caps cleared) before perl runs the init", () => {
    const fast = {
      perl: "/usr/bin/perl",
      setpriv: "/usr/bin/setpriv",
      bridge: { hostScript: "/app/sandbox-bridge.mjs", path: "/run/forgehand-bridge.mjs" },
    };
    const init = { node: "/usr/bin/node", hostScript: "/app/sandbox-init.pl", path: "/run/forgehand-init.pl", fast };
    const argv = buildBwrapArgv(base({ init, envFile: "/run/forgehand/env" }));
    expect(binds(argv)).toContainEqual(["--ro-bind", "/app/sandbox-bridge.mjs", "/run/forgehand-bridge.mjs"]);
    const after = argv.slice(argv.indexOf("--") + 1);
    expect(after.slice(0, 7)).toEqual([
      "/usr/bin/setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all",
      "--",
      "/usr/bin/perl",
    ]);
    expect(after.join(" ")).toContain(
      "/run/forgehand-init.pl --env-file /run/forgehand/env --uid 65534 --gid 65534 --proxy-port 3128 " +
        "--bridge /usr/bin/node /run/forgehand-bridge.mjs --proxy-socket /run/forgehand/proxy.sock -- claude -p hi",
    );
    // A non-root runner maps the agent in a user namespace: no setpriv, perl runs the init directly.
    const userns = buildBwrapArgv(base({ init, userns: { uid: 1000, gid: 1000 }, dropTo: undefined }));
    expect(userns.slice(userns.indexOf("--") + 1)[0]).toBe("/usr/bin/perl");
    expect(() => buildBwrapArgv(base({ init: { ...init, fast: { ...fast, setpriv: undefined } } }))).toThrow(
      /needs `setpriv`/,
    );
  });

  it("non-root runner: a user namespace mapping the agent to the runner's own ids, no uid switch in the init", () => {
    const argv = buildBwrapArgv(base({ userns: { uid: 1000, gid: 1000 }, dropTo: undefined }));
    expect(bwrapPart(argv).join(" ")).toContain("--unshare-user --uid 1000 --gid 1000");
    expect(bwrapPart(argv)).toContain("--disable-userns");
    expect(bwrapPart(argv)).not.toContain("--cap-add");
    expect(argv.slice(argv.indexOf("--") + 1).join(" ")).not.toContain("--uid");
  });

  it("binds exactly the system dirs, the worktree (rw), the extras, HOME, the run dir and the init — nothing else", () => {
    const argv = buildBwrapArgv(
      base({
        writable: ["/var/cache/npm"],
        readOnly: ["/opt/agent", "/data/worktrees/o-r-1/node_modules/.bin/x"],
        git: {
          mode: "read-only",
          binds: ["/data/mirrors/o/r.git/worktrees/o-r-1", "/data/mirrors/o/r.git/objects"],
          optionalBinds: ["/data/mirrors/o/r.git/packed-refs"],
        },
      }),
    );
    expect(binds(argv)).toEqual([
      ["--ro-bind", "/usr", "/usr"],
      ["--ro-bind", "/etc", "/etc"],
      // the read-only path inside the worktree is left out: it stays writable
      ["--ro-bind", "/opt/agent", "/opt/agent"],
      ["--bind", "/var/cache/npm", "/var/cache/npm"],
      ["--bind", "/data/worktrees/o-r-1", "/data/worktrees/o-r-1"],
      ["--ro-bind", "/data/mirrors/o/r.git/worktrees/o-r-1", "/data/mirrors/o/r.git/worktrees/o-r-1"],
      ["--ro-bind", "/data/mirrors/o/r.git/objects", "/data/mirrors/o/r.git/objects"],
      ["--ro-bind-try", "/data/mirrors/o/r.git/packed-refs", "/data/mirrors/o/r.git/packed-refs"],
      ["--ro-bind", "/data/worktrees/o-r-1/.git", "/data/worktrees/o-r-1/.git"],
      ["--bind", "/tmp/fh-run/home", "/home/agent"],
      ["--ro-bind", "/tmp/fh-run/run", "/run/forgehand"],
      ["--ro-bind", "/app/sandbox-init.mjs", "/run/forgehand-init.mjs"],
    ]);
    expect(argv.join(" ")).toContain("--symlink usr/bin /bin");
    const chdir = argv.indexOf("--chdir");
    expect(argv[chdir + 1]).toBe("/data/worktrees/o-r-1");
  });

  it("makes each mount point's missing parents 0755 before the mount (else the dropped agent cannot reach them)", () => {
    const argv = buildBwrapArgv(base({ worktree: "/tmp/x/wt" }));
    const s = argv.join(" ");
    const dir = (p: string) => s.indexOf(`--perms 0755 --dir ${p} `);
    expect(dir("/data")).toBe(-1); // not asked for
    expect(dir("/tmp/x")).toBeGreaterThan(s.indexOf("--tmpfs /tmp"));
    expect(dir("/tmp/x")).toBeLessThan(s.indexOf("--bind /tmp/x/wt /tmp/x/wt"));
    expect(dir("/home")).toBeGreaterThan(0);
    expect(dir("/run")).toBeGreaterThan(0);
    // Parents inside a tree bound from the host are the host's own.
    expect(s).not.toContain("--dir /tmp/x/wt");
  });

  it("hidden git masks .git; masks cover paths inside visible trees", () => {
    const argv = buildBwrapArgv(
      base({ git: { mode: "hidden", kind: "file" }, masks: [{ path: "/etc/forgehand", kind: "dir" }] }),
    );
    const s = argv.join(" ");
    expect(s).toContain("--ro-bind /dev/null /data/worktrees/o-r-1/.git");
    expect(s).toContain("--tmpfs /etc/forgehand");
    expect(s.indexOf("--tmpfs /etc/forgehand")).toBeGreaterThan(s.indexOf("--ro-bind /etc /etc"));
  });

  it("refuses what would open the sandbox up", () => {
    expect(() => buildBwrapArgv(base({ userns: null, dropTo: undefined }))).toThrow(/dropTo/);
    expect(() => buildBwrapArgv(base({ dropTo: { uid: 0, gid: 0 } }))).toThrow(/uid 0/);
    expect(() => buildBwrapArgv(base({ writable: ["/"] }))).toThrow(/refusing/);
    expect(() => buildBwrapArgv(base({ worktree: "/home" }))).toThrow(/refusing/);
    expect(() => buildBwrapArgv(base({ worktree: "relative/wt" }))).toThrow(/absolute/);
    expect(() => buildBwrapArgv(base({ command: [] }))).toThrow(/command/);
  });
});
