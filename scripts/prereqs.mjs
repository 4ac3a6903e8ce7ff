#!/usr/bin/env node
// Makes sure what `npm start` and `npm test` need is present on this machine:
// npm dependencies, git, a redis-server binary and bubblewrap (installed from
// the OS package manager when missing and possible), and — when run as root —
// the unprivileged `forgehand-agent` user the sandboxed agents run as. Uses only
// Node built-ins, because it runs before dependencies are installed.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const say = (msg) => quiet || console.error(`[prereqs] ${msg}`);

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function fail(msg) {
  console.error(`[prereqs] ${msg}`);
  process.exit(1);
}

// 1. Node version (engines says >=20.19).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`Node.js >= 20.19 is required, this is ${process.version}.`);

// 2. npm dependencies: install when node_modules is missing or older than the lock file.
const lock = join(root, "package-lock.json");
const marker = join(root, "node_modules", ".package-lock.json");
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)) {
  say("installing npm dependencies (npm ci)…");
  // `npm ci`: exactly the lock file (which holds every platform's optional packages), and it never
  // rewrites package-lock.json, so `npm start` on a fresh clone leaves `git status` clean.
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) fail("npm dependency install failed; see the output above.");
}

// 3. git, used for mirrors and worktrees.
if (!has("git")) tryApt("git") || fail("git is not installed. Install it (apt-get install git / brew install git).");

// 4. redis-server, for the embedded Redis (npm start without REDIS_URL) and for the tests.
const needsRedis = !process.env.REDIS_URL || process.env.npm_lifecycle_event !== "prestart";
if (needsRedis && !has("redis-server")) {
  tryApt("redis-server") ||
    fail(
      "redis-server is not installed and could not be installed automatically.\n" +
        "  Debian/Ubuntu: sudo apt-get install redis-server\n  macOS: brew install redis\n" +
        "  Or run `npm start` with REDIS_URL pointing at an existing Redis.",
    );
  // Debian starts a system service on install; forgehand uses its own private server.
  if (has("service")) spawnSync("service", ["redis-server", "stop"], { stdio: "ignore" });
}
// 4b. redis-sentinel, only for the tests (a real Sentinel failover); Debian ships it as its own package.
if (process.env.npm_lifecycle_event === "pretest" && !has("redis-sentinel")) {
  tryApt("redis-sentinel") ||
    fail("redis-sentinel is not installed (tests need it): sudo apt-get install redis-sentinel");
  if (has("service")) spawnSync("service", ["redis-sentinel", "stop"], { stdio: "ignore" });
}
// 5. bubblewrap: every agent and gate runs in a bwrap sandbox (Linux). Not fatal here: the run fails closed
//    with the reason, and `forgehand doctor` says what is missing.
let sandbox = "";
if (process.platform === "linux") {
  if (has("bwrap") || tryApt("bubblewrap", "bwrap")) sandbox = ", bubblewrap";
  else {
    console.error(
      "[prereqs] warning: bubblewrap (bwrap) is not installed and could not be installed automatically.\n" +
        "  Agents run sandboxed by default and will fail until it is: sudo apt-get install bubblewrap",
    );
  }
  ensureAgentUser();
}
// 6. chromium, for the browser tests of the run pages (playwright-core drives the system browser). Tests only:
//    `npm start` never needs it, and a missing one only skips those tests (they say so).
let browser = "";
if (process.env.npm_lifecycle_event === "pretest" && process.platform === "linux") {
  if (has("chromium") || tryApt("chromium")) browser = ", chromium";
  else console.error("[prereqs] warning: chromium is not installed; the run-page browser tests are skipped.");
}
say(`ok: node, npm dependencies, git${needsRedis ? ", redis-server" : ""}${sandbox}${browser}`);

// The dedicated agent user (root installs only: a non-root runner runs agents as itself in a user namespace).
// Idempotent; never fails the install — says what to do instead.
function ensureAgentUser() {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) return;
  if (spawnSync("id", ["-u", "forgehand-agent"], { stdio: "ignore" }).status === 0) return;
  const useradd = ["/usr/sbin/useradd", "/sbin/useradd"].find((p) => existsSync(p)) ?? (has("useradd") && "useradd");
  const hint =
    "  Create it by hand: useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin forgehand-agent";
  if (!useradd) {
    console.error(`[prereqs] warning: no useradd here; agents will run as nobody (65534).\n${hint}`);
    return;
  }
  const args = [
    "--system",
    "--user-group",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    "forgehand-agent",
  ];
  const r = spawnSync(useradd, args, { stdio: quiet ? "ignore" : "inherit" });
  if (r.status === 0) say("created the system user forgehand-agent (sandboxed agents run as it)");
  else
    console.error(
      `[prereqs] warning: could not create the forgehand-agent user; agents will run as nobody (65534).\n${hint}`,
    );
}

function tryApt(pkg, binary = pkg) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!has("apt-get")) return false;
  const sudo = isRoot ? [] : has("sudo") ? ["sudo", "-n"] : null;
  if (!sudo) return false;
  say(`installing ${pkg} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, ...args];
    return spawnSync(cmd, rest, { stdio: quiet ? "ignore" : "inherit", env }).status === 0;
  };
  if (!run(["apt-get", "install", "-y", "--no-install-recommends", pkg])) {
    run(["apt-get", "update"]);
    if (!run(["apt-get", "install", "-y", "--no-install-recommends", pkg])) return false;
  }
  try {
    execFileSync("sh", ["-c", `command -v ${binary}`]);
    return true;
  } catch {
    return false;
  }
}
