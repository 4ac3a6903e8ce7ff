/**
 * The guardian's entry checks (plain CommonJS, spliced into GUARDIAN_SCRIPT; they use its `fs`, `path`,
 * `readProc`, `running`, `inside` and `realDir`). The same rules as pid-registry.ts and pid-entry-mismatch.ts:
 * a registry file counts only when it is a regular file of our uid that group/others cannot write; a full
 * entry is acted on only while its live pid is the recorded process (start time, uid, cgroup) and leads its
 * own group; a cwd is swept only strictly inside the sweep root (`<data>/workspaces/worktrees`).
 */
export const GUARDIAN_CHECKS = String.raw`
const ownUid = typeof process.getuid === "function" ? process.getuid() : undefined;
function fileProblem(file) {
  let st;
  try {
    st = fs.lstatSync(file);
  } catch {
    return "unreadable";
  }
  if (!st.isFile()) return "not a regular file";
  if (ownUid !== undefined && st.uid !== ownUid) return "owned by uid " + st.uid + ", not " + ownUid;
  if ((st.mode & 0o022) !== 0) return "writable by group/others (mode " + (st.mode & 0o777).toString(8) + ")";
  return undefined;
}
function realUidOf(pid) {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync("/proc/" + pid + "/status", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
function cgroup2Mounts() {
  try {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
      .filter((l) => (l.split(" - ")[1] || "").startsWith("cgroup2 "))
      .map((l) => l.split(" ")[4] || "")
      .filter((m) => m.startsWith("/"))
      .sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}
function inCgroup(pid, cgroup) {
  let own;
  try {
    const m = /^0::(\S+)/m.exec(fs.readFileSync("/proc/" + pid + "/cgroup", "utf8"));
    own = m && m[1];
  } catch {
    return false;
  }
  if (!own) return false;
  const mount = cgroup2Mounts().find((m) => inside(cgroup, m));
  const wanted = mount ? cgroup.slice(mount.length) || "/" : cgroup;
  return wanted !== "/" && inside(own, wanted);
}
function entryMismatch(e) {
  if (e.pgid !== e.pid) return "pgid " + e.pgid + " is not the agent's own group " + e.pid;
  const p = readProc(e.pid);
  if (!running(p)) return undefined;
  if (e.startTime === undefined) return "pid " + e.pid + " is running but the entry records no start time";
  if (p.startTime !== e.startTime) return "pid " + e.pid + " is another process (start time " + p.startTime + ")";
  if (e.uid !== undefined && realUidOf(e.pid) !== e.uid) return "pid " + e.pid + " does not run as uid " + e.uid;
  if (e.cgroup !== undefined && (typeof e.cgroup !== "string" || !inCgroup(e.pid, e.cgroup)))
    return "pid " + e.pid + " is not in cgroup " + e.cgroup;
  return undefined;
}
function sweepableCwd(cwd, root) {
  if (typeof cwd !== "string" || !path.isAbsolute(cwd) || typeof root !== "string") return undefined;
  const dir = realDir(cwd);
  const base = realDir(root);
  return dir !== base && base !== "/" && inside(dir, base) ? dir : undefined;
}
`;
