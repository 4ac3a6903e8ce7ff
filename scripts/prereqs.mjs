#!/usr/bin/env node
// Makes sure what `npm start` and `npm test` need is present on this machine:
// npm dependencies, git, and a redis-server binary (installed from the OS
// package manager when missing and possible). Uses only Node built-ins, because
// it runs before dependencies are installed.
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
  say("installing npm dependencies (npm install)…");
  // `npm install` rather than `npm ci`: npm 11 lock files can omit other platforms' optional packages, which `ci` rejects.
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
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
say(`ok: node, npm dependencies, git${needsRedis ? ", redis-server" : ""}`);

function tryApt(pkg) {
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
    execFileSync("sh", ["-c", `command -v ${pkg === "redis-server" ? "redis-server" : pkg}`]);
    return true;
  } catch {
    return false;
  }
}
