// forgehand's init inside a bwrap sandbox (plain JS, run by the host's node binary bound read-only).
//   node sandbox-init.mjs --env-file F [--uid N --gid N] [--proxy-socket S --proxy-port P] -- COMMAND...
// 1. reads the agent's exact environment from F (a JSON object; the file lives in the read-only run dir, so it
//    never appears on a command line);
// 2. root runner: drops to the agent uid/gid (setgroups([]), setgid, setuid) before anything else runs;
// 3. starts the egress bridge: 127.0.0.1:P in the sandbox's own network namespace → the runner's proxy socket S;
// 4. spawns COMMAND with stdio inherited and exactly that environment, forwards signals, exits with its code
//    (128 + signal number when it was killed by a signal).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { constants } from "node:os";

const say = (msg) => process.stderr.write(`[forgehand-sandbox] ${msg}\n`);
const die = (msg, code = 126) => {
  say(msg);
  process.exit(code);
};

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
if (sep < 0 || sep === argv.length - 1) die("usage: sandbox-init.mjs [options] -- COMMAND...");
const opts = {};
for (let i = 0; i < sep; i += 2) opts[argv[i].replace(/^--/, "")] = argv[i + 1];
const command = argv.slice(sep + 1);

let env;
try {
  env = JSON.parse(readFileSync(opts["env-file"], "utf8"));
} catch (error) {
  die(`cannot read the environment file ${opts["env-file"]}: ${error.message}`);
}

if (opts.uid !== undefined) {
  const uid = Number(opts.uid);
  const gid = Number(opts.gid ?? opts.uid);
  try {
    process.setgroups([]);
    process.setgid(gid);
    process.setuid(uid);
  } catch (error) {
    die(`cannot switch to uid ${uid} gid ${gid}: ${error.message}`);
  }
  if (process.getuid() !== uid || process.geteuid() !== uid || process.getgid() !== gid || uid === 0) {
    die(`still uid ${process.geteuid()} after switching to ${uid}: refusing to run the agent`);
  }
}

let bridge;
if (opts["proxy-socket"]) {
  const socketPath = opts["proxy-socket"];
  bridge = createServer((conn) => {
    const up = createConnection(socketPath);
    const end = () => {
      conn.destroy();
      up.destroy();
    };
    conn.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
    conn.pipe(up);
    up.pipe(conn);
  });
  try {
    await new Promise((resolve, reject) => {
      bridge.once("error", reject);
      bridge.listen(Number(opts["proxy-port"]), "127.0.0.1", resolve);
    });
  } catch (error) {
    die(`cannot start the egress bridge on 127.0.0.1:${opts["proxy-port"]}: ${error.message}`);
  }
  // The bridge must not keep the init alive once the agent is gone.
  bridge.unref();
}

const child = spawn(command[0], command.slice(1), { stdio: "inherit", env });
const forwarded = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];
for (const sig of forwarded) {
  process.on(sig, () => {
    try {
      child.kill(sig);
    } catch {}
  });
}
child.on("error", (error) => die(`cannot start ${command[0]}: ${error.message}`, error.code === "ENOENT" ? 127 : 126));
child.on("exit", (code, signal) => {
  bridge?.close();
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
