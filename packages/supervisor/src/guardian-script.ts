import { GUARDIAN_CGROUP } from "./guardian-cgroup-script";
import { GUARDIAN_CHECKS } from "./guardian-checks-script";

/**
 * Source of the guardian child (`node -e GUARDIAN_SCRIPT <supervisorPid> <supervisorStartTime>`). A constant
 * string rather than a file so it runs the same from TS source and from the CLI's esbuild bundle: no path lookup,
 * no imports of our modules (it repeats the few /proc helpers of proc.ts in plain CommonJS).
 *
 * Protocol on stdin (JSON lines from the supervising process): `{"watch":"<registryDir>","sweepRoot":"<dir>"}` adds
 * a registry directory (cwds are swept only inside its sweep root), `{"stop":true}` ends the guardian without killing anything. When stdin ends or errors without
 * `stop` (the supervisor died: any signal including SIGKILL, or exited), or the supervisor is seen gone on two
 * consecutive 1 s polls (in case the pipe's write end leaked into some other process), it SIGKILLs every agent
 * registered by that supervisor (its process group, its descendants and anything whose cwd is inside its cwd),
 * and `cgroup.kill`s its run cgroup (only one under forgehand's parent, see GUARDIAN_CGROUP), re-checks for up to
 * 5 s (the cgroup must be empty, then it is removed), removes the entries it verified, logs to
 * `<registryDir>/guardian.log` and exits.
 * Entries that fail the checks of GUARDIAN_CHECKS are logged and removed with nothing killed.
 */
export const GUARDIAN_SCRIPT = String.raw`"use strict";
const fs = require("node:fs");
const path = require("node:path");
const supervisorPid = Number(process.argv[1]);
const supervisorStart = process.argv[2] ? Number(process.argv[2]) : undefined;
const BOUND_MS = 5000;
const PENDING_SETTLE_MS = 300;
/** registry dir → its sweep root */
const dirs = new Map();
let sweeping = false;
// Our argv is this whole script: show operators a name instead.
process.title = "forgehand-guardian " + supervisorPid;

// A terminal Ctrl-C or a hangup must not take the guardian down with the runner: its job starts then.
for (const sig of ["SIGINT", "SIGHUP", "SIGTERM"]) process.on(sig, () => {});

function log(dir, msg, fields) {
  const line = { time: new Date().toISOString(), guardianPid: process.pid, supervisorPid, msg, ...fields };
  try {
    fs.appendFileSync(path.join(dir, "guardian.log"), JSON.stringify(line) + "\n", { mode: 0o600 });
  } catch {}
}

function readProc(pid) {
  let stat;
  try {
    stat = fs.readFileSync("/proc/" + pid + "/stat", "utf8");
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(" ");
  return { pid, state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]), startTime: Number(rest[19]) };
}
const running = (p) => p !== undefined && p.state !== "Z" && p.state !== "X";
function sameRunning(pid, start) {
  const p = readProc(pid);
  return running(p) && (start === undefined || p.startTime === start);
}
function scan() {
  const procs = [];
  for (const name of fs.readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const p = readProc(pid);
    if (running(p)) procs.push(p);
  }
  return procs;
}
function cwdOf(pid) {
  try {
    const cwd = fs.readlinkSync("/proc/" + pid + "/cwd");
    return cwd.endsWith(" (deleted)") ? cwd.slice(0, -" (deleted)".length) : cwd;
  } catch {
    return undefined;
  }
}
const inside = (p, dir) => p === dir || p.startsWith(dir + "/");
function realDir(dir) {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}
/** Ourselves and our ancestors (init, a container's tini): never targets. */
function protectedPids() {
  const out = new Set([process.pid, 1]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1; i++) {
    out.add(pid);
    const p = readProc(pid);
    if (!p || p.ppid === pid) break;
    pid = p.ppid;
  }
  return out;
}
function readEntry(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}
/** Only entries written by OUR supervisor: another runner's live runs on the same data dir are not ours. */
const ours = (e) =>
  e !== null && typeof e === "object" && e.supervisorPid === supervisorPid &&
  (supervisorStart === undefined || e.supervisorStartTime === undefined || e.supervisorStartTime === supervisorStart);
${GUARDIAN_CHECKS}
${GUARDIAN_CGROUP}
/** Drops an entry that claims our supervisor but names no process we started: logged, removed, nothing killed. */
function reject(dir, file, e, reason) {
  log(dir, "registry entry does not match a process forgehand started; removed, nothing killed", {
    runId: e.runId, pid: e.pid, cwd: e.cwd, reason,
  });
  fs.rmSync(file, { force: true });
}
function jobsOf(dir) {
  const root = dirs.get(dir);
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const jobs = [];
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const file = path.join(dir, name);
    const problem = fileProblem(file);
    if (problem) {
      // Not provably written by us: its content steers nothing (reapOrphans removes it at the next start).
      log(dir, "untrusted registry file ignored", { file, reason: problem });
      continue;
    }
    const e = readEntry(file);
    if (!ours(e) || typeof e.cwd !== "string") continue;
    // Pending: written before the spawn, no pid yet; the agent, if it was started, is known only by its cwd.
    const pending = e.pid === undefined && e.pgid === undefined;
    if (!pending && (!Number.isInteger(e.pid) || e.pid <= 1)) continue;
    // Outside the sweep root a cwd could name anything (/, /tmp, a home dir): never swept.
    const cwd = sweepableCwd(e.cwd, root);
    const mismatch = pending ? (cwd === undefined ? "pending entry's cwd is not inside " + root : undefined) : entryMismatch(e);
    if (mismatch) {
      reject(dir, file, e, mismatch);
      continue;
    }
    // The run cgroup (a sandbox's escapees with cwd /tmp are in nothing else); a path not ours is left alone.
    const cg = e.cgroup === undefined ? undefined : runCgroupDir(e.cgroup);
    if (cg && cg.refused) log(dir, "run cgroup left alone", { runId: e.runId, cgroup: e.cgroup, reason: cg.refused });
    jobs.push({ dir, file, e, pending, cwd, cgroup: cg && cg.dir, killed: new Set() });
  }
  return jobs;
}
/** Every running process of the run: the agent (same start time), its group, cwd matches, their descendants. */
function targetsOf(job, procs, children, protect) {
  const e = job.e;
  const found = new Map();
  if (job.pending) {
    if (job.cwd === undefined) return { found, groupOurs: false };
    return { found: withDescendants(matchCwd(job.cwd, procs, protect, found), children, protect), groupOurs: false };
  }
  // A group id is only ours while its leader is the agent, or while no process holds that pid any more.
  const leader = readProc(e.pgid);
  const groupOurs = Number.isInteger(e.pgid) && e.pgid > 1 && !protect.has(e.pgid) &&
    (leader === undefined || e.startTime === undefined || leader.startTime === e.startTime);
  for (const p of procs) {
    if (protect.has(p.pid)) continue;
    if (p.pid === e.pid) {
      if (e.startTime === undefined || p.startTime === e.startTime) found.set(p.pid, p.startTime);
    } else if (groupOurs && p.pgid === e.pgid) found.set(p.pid, p.startTime);
    else if (job.cwd !== undefined) {
      const cwd = cwdOf(p.pid);
      if (cwd !== undefined && inside(cwd, job.cwd)) found.set(p.pid, p.startTime);
    }
  }
  return { found: withDescendants(found, children, protect), groupOurs };
}
function matchCwd(dir, procs, protect, found) {
  for (const p of procs) {
    if (protect.has(p.pid)) continue;
    const cwd = cwdOf(p.pid);
    if (cwd !== undefined && inside(cwd, dir)) found.set(p.pid, p.startTime);
  }
  return found;
}
function withDescendants(found, children, protect) {
  const queue = [...found.keys()];
  while (queue.length > 0) {
    for (const c of children.get(queue.pop()) || []) {
      if (found.has(c.pid) || protect.has(c.pid)) continue;
      found.set(c.pid, c.startTime);
      queue.push(c.pid);
    }
  }
  return found;
}
function kill(pid) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

async function sweep(reason) {
  if (sweeping) return;
  sweeping = true;
  let pending = [...dirs.keys()].flatMap(jobsOf);
  for (const j of pending) {
    const fields = { reason, runId: j.e.runId, pid: j.e.pid, cwd: j.e.cwd, pending: j.pending };
    log(j.dir, "supervisor gone; killing its agent", fields);
  }
  const deadline = Date.now() + BOUND_MS;
  const settleEnd = Date.now() + PENDING_SETTLE_MS;
  while (pending.length > 0) {
    const procs = scan();
    const children = new Map();
    for (const p of procs) {
      const list = children.get(p.ppid);
      if (list) list.push(p);
      else children.set(p.ppid, [p]);
    }
    const protect = protectedPids();
    const next = [];
    for (const j of pending) {
      const { found, groupOurs } = targetsOf(j, procs, children, protect);
      const cg = j.cgroup ? cgroupState(j.cgroup) : { pids: [], busy: false };
      // A child forked just before the supervisor died gets its cwd (chdir) only a moment later: a pending
      // entry counts as empty only on a scan taken after that settle time.
      if (found.size === 0 && !cg.busy && j.pending && Date.now() < settleEnd) {
        next.push(j);
        continue;
      }
      if (found.size === 0 && !cg.busy) {
        const cgroupRemoved = j.cgroup ? cgroupRemove(j.cgroup) : undefined;
        // Re-read: a runner restarted on this data dir may have reused the run id meanwhile.
        if (ours(readEntry(j.file))) fs.rmSync(j.file, { force: true });
        log(j.dir, "agent verified gone; registry entry removed", {
          runId: j.e.runId, killed: [...j.killed], ...(j.cgroup ? { cgroup: j.cgroup, cgroupRemoved } : {}),
        });
        continue;
      }
      if (Date.now() >= deadline) {
        const survivors = [...new Set([...found.keys(), ...cg.pids])];
        log(j.dir, "agent processes survived; entry left for reapOrphans", { runId: j.e.runId, survivors });
        continue;
      }
      if (cg.busy) {
        // SIGKILL to everything in it, in one write; its pids count as killed once it is empty.
        for (const pid of cg.pids) j.killed.add(pid);
        cgroupKill(j.cgroup);
      }
      if (groupOurs) kill(-j.e.pgid);
      for (const [pid, start] of found) {
        // Reported once verified gone; signalled by pid only while it is still the process found (never recycled).
        j.killed.add(pid);
        if (sameRunning(pid, start)) kill(pid);
      }
      next.push(j);
    }
    pending = next;
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.exit(0);
}

function onSupervisorGone(reason) {
  sweep(reason).catch((error) => {
    for (const dir of dirs.keys()) log(dir, "guardian failed", { error: String((error && error.stack) || error) });
    process.exit(2);
  });
}

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      continue;
    }
    if (message && message.stop === true) process.exit(0);
    if (message && typeof message.watch === "string" && typeof message.sweepRoot === "string")
      dirs.set(message.watch, message.sweepRoot);
  }
});
process.stdin.on("end", () => onSupervisorGone("stdin closed"));
process.stdin.on("error", () => onSupervisorGone("stdin error"));
// Fallback for a pipe that does not close; two misses in a row so queued "watch" lines are read first.
let misses = 0;
setInterval(() => {
  misses = sameRunning(supervisorPid, supervisorStart) ? 0 : misses + 1;
  if (misses >= 2) onSupervisorGone("supervisor not running");
}, 1000);
`;
