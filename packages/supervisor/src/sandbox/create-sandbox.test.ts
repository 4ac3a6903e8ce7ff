// The sandbox against the real bwrap, probed the way a prompt-injected agent would: each test names one channel.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isAlive, waitFor } from "../test-support";
import type { AgentIdentity } from "./agent-identity";
import { chownTree } from "./chown-tree";
import { createSandbox, type Sandbox, SandboxSetupError, type SandboxSpec } from "./create-sandbox";
import { detectCgroupSupport } from "./run-cgroup";
import { signalSandbox } from "./sandbox-process";
import { bwrapForTests, descendants, hostUid, isRoot, runSandboxed } from "./test-support";

const bwrap = bwrapForTests();
const cgroups = await detectCgroupSupport();
const AGENT: AgentIdentity = { uid: 65534, gid: 65534, user: "nobody", runnerIsRoot: true, source: "nobody" };
const SECRET = "sk-test-0123456789abcdef-agent-key";
const RUNNER_SECRET = "runner-only-secret-ghp_abcdefabcdefabcdef";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  });

// Every channel, with each init: the fast one (perl + setpriv, the default) and the node one (the fallback).
describe.skipIf(!bwrap).each(["fast", "node"] as const)("createSandbox with the real bwrap (%s init)", (init) => {
  // A forgehand data dir in miniature: a bare mirror, this run's worktree and another issue's, a pid registry,
  // a config file with secrets, and the runner's HOME.
  const root = mkdtempSync(join(tmpdir(), "fh-sbx-"));
  const data = join(root, "data");
  const mirror = join(data, "mirrors", "o", "r.git");
  const wt = join(data, "worktrees", "o-r-1");
  const otherWt = join(data, "worktrees", "o-r-2");
  const registry = join(data, "agents", "1234.json");
  const configFile = join(root, "config", "forgehand.yaml");
  const runnerHome = join(root, "runner-home");
  const roSecretDir = join(root, "ro");
  let mirrorConfig = "";
  let servers: Server[] = [];
  let allowedPort = 0;
  let otherPort = 0;
  const sandboxes: Sandbox[] = [];

  beforeAll(async () => {
    const src = join(root, "src");
    mkdirSync(src, { recursive: true });
    git(src, "init", "-q", "-b", "main");
    writeFileSync(join(src, "README.md"), "hello\n");
    git(src, "add", ".");
    git(src, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
    mkdirSync(join(data, "mirrors", "o"), { recursive: true });
    git(root, "clone", "-q", "--bare", src, mirror);
    mkdirSync(join(mirror, "hooks"), { recursive: true });
    writeFileSync(join(mirror, "hooks", "post-checkout"), "#!/bin/sh\necho hook\n");
    git(mirror, "worktree", "add", "-q", "--detach", wt, "main");
    git(mirror, "worktree", "add", "-q", "--detach", otherWt, "main");
    writeFileSync(join(otherWt, "OTHER_ISSUE_SECRET"), "other\n");
    mirrorConfig = readFileSync(join(mirror, "config"), "utf8");
    mkdirSync(join(data, "agents"), { recursive: true });
    writeFileSync(registry, '{"pid":1}');
    mkdirSync(join(root, "config"), { recursive: true });
    writeFileSync(configFile, "webhookSecret: hunter2\n", { mode: 0o600 });
    mkdirSync(join(runnerHome, ".claude"), { recursive: true });
    writeFileSync(join(runnerHome, ".claude", ".credentials.json"), '{"token":"seeded"}');
    writeFileSync(join(runnerHome, ".gitconfig"), "[url]\n");
    mkdirSync(roSecretDir);
    writeFileSync(join(roSecretDir, "root-only"), "root secret\n", { mode: 0o600 });
    writeFileSync(join(roSecretDir, "public"), "public\n", { mode: 0o644 });
    writeFileSync(join(tmpdir(), `fh-host-tmp-marker-${process.pid}`), "host tmp");
    process.env.FH_SANDBOX_TEST_RUNNER_SECRET = RUNNER_SECRET;

    const serve = async (body: string) => {
      const s = createServer((_req, res) => res.end(body));
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
      servers.push(s);
      return (s.address() as AddressInfo).port;
    };
    allowedPort = await serve("hello-from-allowed");
    otherPort = await serve("hello-from-other");
  });
  afterEach(async () => {
    for (const s of sandboxes.splice(0)) await s.cleanup();
    for (const f of ["ready", "term", "env.out", "status.out", "agent-file"]) rmSync(join(wt, f), { force: true });
    git(wt, "checkout", "--", "README.md");
  });
  afterAll(() => {
    for (const s of servers) s.close();
    servers = [];
    delete process.env.FH_SANDBOX_TEST_RUNNER_SECRET;
    rmSync(join(tmpdir(), `fh-host-tmp-marker-${process.pid}`), { force: true });
    rmSync(root, { recursive: true, force: true });
  });

  /** A sandbox running `sh -c script` in the worktree; paths reach the script through env, never argv. */
  const make = (script: string, over: Partial<SandboxSpec> = {}) => {
    const sb = createSandbox({
      worktree: wt,
      command: ["/bin/sh", "-c", script],
      env: {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        FORGEHAND_ISSUE: "1",
        AGENT_API_KEY: SECRET,
        RUNNER_PID: String(process.pid),
        DATA: data,
        MIRROR: mirror,
        OTHER_WT: otherWt,
        REGISTRY: registry,
        CONFIG_FILE: configFile,
        RUNNER_HOME: runnerHome,
        RO: roSecretDir,
        ALLOWED: String(allowedPort),
        OTHER: String(otherPort),
        REDIS_PORT: new URL(process.env.FORGEHAND_TEST_REDIS_URL ?? "redis://127.0.0.1:6379").port,
      },
      identity: isRoot ? AGENT : undefined,
      runnerHome,
      home: ["~/.claude/.credentials.json"],
      readOnly: [roSecretDir],
      allow: [`127.0.0.1:${allowedPort}`],
      bwrap,
      init,
      ...over,
    });
    sandboxes.push(sb);
    return sb;
  };
  /** `key=value` lines of the probe's stdout. */
  const kv = (stdout: string) =>
    Object.fromEntries(
      stdout
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );

  it.skipIf(!isRoot)("root runner: the agent is uid 65534 on the host, cannot read a root 0600 file", async () => {
    const sb = make(
      'echo "uid=$(id -u) gid=$(id -g)"; grep -E "^Groups:" /proc/self/status | tr -d "\\t" | sed "s/:/=/"; ' +
        'cat "$RO/public" >/dev/null && echo public=read; cat "$RO/root-only" 2>/dev/null && echo rootonly=READ; ' +
        'echo ready > "$PWD/ready"; sleep 30',
    );
    await sb.prepare();
    let bwrapPid = 0;
    const run = runSandboxed(sb, { onSpawn: (pid) => (bwrapPid = pid) });
    await waitFor(() => existsSync(join(wt, "ready")), 10_000, "the agent to start");
    const tree = descendants(bwrapPid);
    const uids = tree.map((p) => hostUid(p)?.effective);
    // bwrap (outer, reaper) is root on the host; the init and everything it starts is the agent uid.
    expect(tree.length).toBeGreaterThanOrEqual(3);
    expect(uids.slice(2).every((u) => u === 65534)).toBe(true);
    expect(uids.at(-1)).toBe(65534);
    await sb.cgroup?.kill();
    if (!sb.cgroup) process.kill(bwrapPid, "SIGKILL");
    const out = kv((await run).stdout);
    expect(out.uid).toBe("65534 gid=65534");
    expect((out.Groups ?? "").trim()).toBe("");
    expect(out.public).toBe("read");
    expect(out.rootonly).toBeUndefined();
  });

  it("the agent holds no capability (effective, permitted, inheritable, ambient) and cannot gain one", async () => {
    const sb = make('grep -E "^(Cap(Inh|Prm|Eff|Amb)|NoNewPrivs):" /proc/self/status | tr -d "\\t" | sed "s/:/=/"');
    await sb.prepare();
    expect(sb.init).toBe(init);
    const out = kv((await runSandboxed(sb)).stdout);
    for (const cap of ["CapPrm", "CapEff", "CapAmb"]) expect(out[cap], cap).toBe("0000000000000000");
    // setpriv clears the inheritable set too; node cannot, and leaves bwrap's SETUID|SETGID (0xc0) there, which
    // no_new_privs makes useless (an exec never turns inheritable bits into permitted ones under it).
    if (init === "fast" || !isRoot) expect(out.CapInh).toBe("0000000000000000");
    expect(out.NoNewPrivs).toBe("1");
  });

  it("sees no host process, cannot signal the runner, sees none of forgehand's files", async () => {
    const sb = make(
      [
        'echo "procs=$(ls /proc | grep "^[0-9]" | sort -n | tail -1)"',
        'kill -9 "$RUNNER_PID" 2>/dev/null && echo kill=ok || echo kill=failed',
        "kill -9 1 2>/dev/null && echo kill1=ok || echo kill1=failed",
        'for p in "$DATA/agents" "$REGISTRY" "$CONFIG_FILE" "$OTHER_WT" "$RUNNER_HOME" "$MIRROR/hooks" ' +
          '"$MIRROR/worktrees/o-r-2" /root "$DATA/mirrors/o/r.git/FETCH_HEAD"; do ' +
          'if cat "$p" >/dev/null 2>&1 || ls "$p" >/dev/null 2>&1; then echo "visible=$p"; fi; done',
        "cat /proc/1/environ >/dev/null 2>&1 && echo environ1=READ",
        "ls /tmp | grep -q fh-host-tmp-marker && echo hosttmp=visible",
        'echo "hostname=$(hostname)"',
      ].join("\n"),
    );
    await sb.prepare();
    const r = await runSandboxed(sb);
    const out = kv(r.stdout);
    // Only the sandbox's own pid namespace (1: bwrap's reaper, 2: the init, …) — never a host process's pid.
    expect(Number(out.procs)).toBeGreaterThan(0);
    expect(Number(out.procs)).toBeLessThan(20);
    expect(process.pid).toBeGreaterThan(20);
    expect(out.kill).toBe("failed");
    expect(isAlive(process.pid)).toBe(true);
    if (isRoot) {
      // pid 1 is bwrap's reaper, root on the host: neither signalable nor readable by the agent uid.
      expect(out.kill1).toBe("failed");
      expect(out.environ1).toBeUndefined();
    }
    expect(r.stdout).not.toContain("visible=");
    expect(out.hosttmp).toBeUndefined();
    expect(out.hostname).toBe("forgehand-sandbox");
  });

  it("gets exactly its configured environment; no value is on bwrap's command line", async () => {
    const sb = make('env -0 > "$PWD/env.out"; echo ready > "$PWD/ready"; sleep 30');
    await sb.prepare();
    let bwrapPid = 0;
    const run = runSandboxed(sb, { onSpawn: (pid) => (bwrapPid = pid) });
    await waitFor(() => existsSync(join(wt, "ready")), 10_000, "the agent to start");
    const cmdlines = [bwrapPid, ...descendants(bwrapPid)].map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8");
      } catch {
        return "";
      }
    });
    await sb.cgroup?.kill();
    if (!sb.cgroup) process.kill(bwrapPid, "SIGKILL");
    await run;
    expect(cmdlines.join("\n")).not.toContain(SECRET);
    const env = Object.fromEntries(
      readFileSync(join(wt, "env.out"), "utf8")
        .split("\0")
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    rmSync(join(wt, "env.out"));
    rmSync(join(wt, "ready"));
    expect(env.AGENT_API_KEY).toBe(SECRET);
    expect(env.HOME).toBe("/home/agent");
    expect(env.HTTPS_PROXY).toBe("http://127.0.0.1:3128");
    expect(env.NO_PROXY).toBe("");
    expect(JSON.stringify(env)).not.toContain(RUNNER_SECRET);
    // sh adds PWD (and SHLVL/_ on some shells); nothing else beyond what createSandbox documents.
    const extra = Object.keys(env).filter((k) => !(k in sb.env) && !["PWD", "SHLVL", "_", "OLDPWD"].includes(k));
    expect(extra).toEqual([]);
  });

  it("the worktree is writable, the system read-only, HOME private and seeded with a copy", async () => {
    const sb = make(
      [
        'echo x > "$PWD/agent-file" && echo wt=ok',
        "touch /usr/x 2>/dev/null && echo usr=WRITABLE",
        "touch /etc/x 2>/dev/null && echo etc=WRITABLE",
        'echo x > "$DATA/x" 2>/dev/null && echo data=WRITABLE',
        "touch /tmp/x && echo tmp=ok",
        'echo "cred=$(cat "$HOME/.claude/.credentials.json")"',
        'echo "credmode=$(stat -c %a "$HOME/.claude/.credentials.json")"',
        'echo "homemode=$(stat -c %a "$HOME")"',
        'echo tampered > "$HOME/.claude/.credentials.json" && echo homewrite=ok',
        'test -e "$HOME/.gitconfig" && echo gitconfig=VISIBLE',
      ].join("\n"),
    );
    await sb.prepare();
    const r = await runSandboxed(sb);
    const out = kv(r.stdout);
    expect(out.wt).toBe("ok");
    expect(out.usr).toBeUndefined();
    expect(out.etc).toBeUndefined();
    expect(out.data).toBeUndefined();
    expect(out.tmp).toBe("ok");
    expect(out.cred).toBe('{"token":"seeded"}');
    expect(out.credmode).toBe("600");
    expect(out.homemode).toBe("700");
    expect(out.homewrite).toBe("ok");
    expect(out.gitconfig).toBeUndefined();
    // The copy was changed, never the runner's file.
    expect(readFileSync(join(runnerHome, ".claude", ".credentials.json"), "utf8")).toBe('{"token":"seeded"}');
    const runDir = sb.runDir;
    await sb.cleanup();
    expect(existsSync(runDir)).toBe(false);
    // The worktree is the runner's again after the run.
    expect(statSync(join(wt, "agent-file")).uid).toBe(process.getuid?.());
    rmSync(join(wt, "agent-file"));
  });

  it("git status/diff work; config, refs, objects, the .git file and hooks cannot be touched", async () => {
    writeFileSync(join(wt, "README.md"), "changed by the agent\n");
    const sb = make(
      [
        'git status --porcelain > "$PWD/status.out" 2>&1 && echo status=ok',
        "git diff --stat | grep -q README && echo diff=ok",
        "git config core.fsmonitor 'sh -c evil' 2>/dev/null && echo config=WRITTEN",
        "git config filter.x.clean evil 2>/dev/null && echo filter=WRITTEN",
        'echo "[url \\"evil\\"]" >> "$MIRROR/config" 2>/dev/null && echo mirrorconfig=WRITTEN',
        "git update-ref refs/heads/evil HEAD 2>/dev/null && echo ref=WRITTEN",
        "git -c user.name=a -c user.email=a@a commit -qam evil 2>/dev/null && echo commit=WRITTEN",
        'echo "gitdir: /tmp/evil" > "$PWD/.git" 2>/dev/null && echo dotgit=WRITTEN',
        'rm -f "$PWD/.git" 2>/dev/null; test -f "$PWD/.git" || echo dotgit=REMOVED',
        'ls "$MIRROR/hooks" >/dev/null 2>&1 && echo hooks=VISIBLE',
      ].join("\n"),
    );
    await sb.prepare();
    const r = await runSandboxed(sb);
    const out = kv(r.stdout);
    expect(out, r.stderr).toMatchObject({ status: "ok", diff: "ok" });
    expect(readFileSync(join(wt, "status.out"), "utf8")).toContain("M README.md");
    for (const k of ["config", "filter", "mirrorconfig", "ref", "commit", "dotgit", "hooks"]) {
      expect(out[k], k).toBeUndefined();
    }
    expect(readFileSync(join(mirror, "config"), "utf8")).toBe(mirrorConfig);
    expect(git(mirror, "for-each-ref", "--format=%(refname)")).not.toContain("evil");
    expect(readFileSync(join(wt, ".git"), "utf8")).toContain(join(mirror, "worktrees", "o-r-1"));
  });

  it("egress: only the allowlist through the proxy; denials counted; host loopback (Redis) unreachable", async () => {
    const denied: string[] = [];
    const sb = make(
      [
        'echo "viaproxy=$(curl -sS -m 5 "http://127.0.0.1:$ALLOWED/")"',
        'echo "viaconnect=$(curl -sS -m 5 -p "http://127.0.0.1:$ALLOWED/")"',
        'echo "other=$(curl -sS -m 5 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$OTHER/")"',
        'echo "otherconnect=$(curl -sS -m 5 -p -o /dev/null -w "%{http_code}" "http://127.0.0.1:$OTHER/" 2>&1 | tail -c 40)"',
        'curl -sS -m 3 --noproxy "*" "http://127.0.0.1:$ALLOWED/" >/dev/null 2>&1 && echo direct=REACHED',
        'curl -sS -m 3 --noproxy "*" "http://169.254.169.254/" >/dev/null 2>&1 && echo metadata=REACHED',
        "node -e \"require('net').connect(+process.env.REDIS_PORT,'127.0.0.1').on('connect',()=>{console.log('redis=REACHED');process.exit()}).on('error',e=>console.log('redis='+e.code))\"",
      ].join("\n"),
      { onDenied: (d) => denied.push(`${d.host}:${d.port}`) },
    );
    await sb.prepare();
    const r = await runSandboxed(sb);
    const out = kv(r.stdout);
    expect(out.viaproxy, r.stderr).toBe("hello-from-allowed");
    expect(out.viaconnect).toBe("hello-from-allowed");
    expect(out.other).toBe("403");
    expect(out.otherconnect).toMatch(/403|CONNECT/);
    expect(out.direct).toBeUndefined();
    expect(out.metadata).toBeUndefined();
    expect(out.redis).toBe("ECONNREFUSED");
    expect(denied).toEqual([`127.0.0.1:${otherPort}`, `127.0.0.1:${otherPort}`]);
    expect(sb.deniedCount).toBe(2);
    expect(sb.deniedConnections.map((d) => d.reason)).toEqual(["not-allowed", "not-allowed"]);
    // The Redis the sandbox could not reach is there, on the host's loopback.
    if (process.env.FORGEHAND_TEST_REDIS_URL) {
      const port = Number(new URL(process.env.FORGEHAND_TEST_REDIS_URL).port);
      await new Promise<void>((resolve, reject) =>
        connect(port, "127.0.0.1").once("connect", resolve).once("error", reject),
      );
    }
  });

  it.skipIf(!cgroups.available)(
    "a setsid -f escapee with cwd /tmp dies with the cgroup; cgroup.procs is empty",
    async () => {
      const sb = make('setsid -f sh -c "cd /tmp; exec sleep 1000"; echo ready > "$PWD/ready"; exec sleep 1000');
      await sb.prepare();
      expect(sb.cgroup).toBeDefined();
      let bwrapPid = 0;
      const run = runSandboxed(sb, { onSpawn: (pid) => (bwrapPid = pid) });
      await waitFor(() => existsSync(join(wt, "ready")), 10_000, "the agent to start");
      const inside = await sb.cgroup!.procs();
      // outer bwrap, reaper, init, the agent's sleep, the escapee
      expect(inside.length).toBeGreaterThanOrEqual(5);
      const result = await sb.cgroup!.kill();
      expect(result.empty).toBe(true);
      for (const pid of inside) expect(isAlive(pid), `pid ${pid}`).toBe(false);
      const r = await run;
      expect(r.signal ?? r.code).toBeTruthy();
      expect(isAlive(bwrapPid)).toBe(false);
      rmSync(join(wt, "ready"));
    },
  );

  it("a graceful stop: SIGTERM to the init reaches the agent, whose exit code comes out of bwrap", async () => {
    const sb = make('trap \'echo term > "$PWD/term"; exit 7\' TERM; sleep 1000 & echo ready > "$PWD/ready"; wait');
    await sb.prepare();
    let bwrapPid = 0;
    const run = runSandboxed(sb, { onSpawn: (pid) => (bwrapPid = pid) });
    await waitFor(() => existsSync(join(wt, "ready")), 10_000, "the agent to start");
    const tree = descendants(bwrapPid).map((p) => `${p}:${readFileSync(`/proc/${p}/cmdline`, "utf8").slice(0, 60)}`);
    expect(signalSandbox(bwrapPid, "SIGTERM")).toBe(true);
    const r = await run;
    expect(r.code, `${r.stderr}\n${tree.join("\n")}`).toBe(7);
    expect(readFileSync(join(wt, "term"), "utf8")).toBe("term\n");
    rmSync(join(wt, "term"));
    rmSync(join(wt, "ready"));
  });

  // The simulated runner (uid 65534) must be able to read its own code, as a real one can: a checkout under a
  // 0700 dir (e.g. a `mktemp -d` clone) is not, so the simulation cannot run there.
  const codeReadableByOthers = (() => {
    for (let d = import.meta.dirname; d !== dirname(d); d = dirname(d))
      if ((statSync(d).mode & 0o001) === 0) return false;
    return true;
  })();
  it.skipIf(!isRoot || !codeReadableByOthers)(
    "an unprivileged runner: a user namespace maps the agent to the runner's own uid",
    async () => {
      // Simulated: bwrap spawned as 65534 (as the Docker image's `node` user would spawn it), its files its own.
      const own = mkdtempSync(join(tmpdir(), "fh-sbx-unpriv-"));
      chmodSync(own, 0o755);
      const ownWt = join(own, "wt");
      mkdirSync(ownWt);
      await chownTree(own, 65534, 65534);
      const sb = createSandbox({
        worktree: ownWt,
        command: [
          "/bin/sh",
          "-c",
          'echo "uid=$(id -u)"; unshare -U true 2>/dev/null && echo userns=CREATED; echo x > f && echo wt=ok',
        ],
        env: { PATH: "/usr/bin:/bin" },
        identity: { uid: 65534, gid: 65534, runnerIsRoot: false, source: "runner" },
        runDirParent: own,
        runnerHome,
        cgroup: false,
        bwrap,
      });
      sandboxes.push(sb);
      try {
        await sb.prepare();
        await chownTree(sb.runDir, 65534, 65534); // a real unprivileged runner creates them as itself
        const r = await runSandboxed(sb, { uid: 65534, gid: 65534 });
        const out = kv(r.stdout);
        expect(out.uid, r.stderr).toBe("65534");
        // --disable-userns: the agent cannot make namespaces of its own.
        expect(out.userns).toBeUndefined();
        expect(out.wt).toBe("ok");
        // What the agent wrote is the runner's uid on the host (not root, not an unmapped id).
        expect(statSync(join(ownWt, "f")).uid).toBe(65534);
      } finally {
        await sb.cleanup();
        rmSync(own, { recursive: true, force: true });
      }
    },
  );

  it("fails closed with the reason: no bwrap, a missing HOME file; nothing left behind", async () => {
    const noBwrap = make("true", { bwrap: "/nonexistent/bwrap" });
    await expect(noBwrap.prepare()).rejects.toThrow(/bubblewrap \(bwrap\) is not installed/);
    expect(existsSync(noBwrap.runDir)).toBe(false);
    const missing = make("true", { home: ["~/.claude/nope.json"] });
    await expect(missing.prepare()).rejects.toThrow(SandboxSetupError);
    await expect(missing.prepare()).rejects.toThrow(/twice/);
    expect(existsSync(missing.runDir)).toBe(false);
  });
});
