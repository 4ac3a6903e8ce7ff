/**
 * The guardian's run-cgroup helpers (plain CommonJS, spliced into GUARDIAN_SCRIPT after GUARDIAN_CHECKS; they use
 * its `fs`, `path` and `inside`). The same rules as reap-run-cgroup.ts: a recorded cgroup is touched only when it
 * is a direct child, with a plain name, of forgehand's run-cgroup parent (`<cgroup2 mount><own cgroup>/forgehand`,
 * computed once from the guardian's own cgroup, which is the runner's: it is the runner's child).
 */
export const GUARDIAN_CGROUP = String.raw`
const RUN_CGROUP_PARENT = (() => {
  let mount, own;
  try {
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
      .filter((l) => (l.split(" - ")[1] || "").split(" ")[0] === "cgroup2")
      .map((l) => (l.split(" - ")[0].split(" ")[4] || "").replace(/\\040/g, " "));
    mount = mounts.find((m) => m === "/sys/fs/cgroup") || mounts[0];
    const m = /^0::(\S+)/m.exec(fs.readFileSync("/proc/self/cgroup", "utf8"));
    own = m && m[1];
  } catch {}
  return mount && own ? { mount, parent: path.join(mount, own, "forgehand") } : undefined;
})();
/** The dir of a recorded run cgroup, or { refused }. */
function runCgroupDir(recorded) {
  if (!RUN_CGROUP_PARENT) return { refused: "this host has no cgroup v2" };
  const { mount, parent } = RUN_CGROUP_PARENT;
  if (typeof recorded !== "string" || !recorded.startsWith("/") || recorded.split("/").some((p) => p === "." || p === ".."))
    return { refused: "not a plain cgroup path" };
  const dir = path.resolve(inside(recorded, mount) ? recorded : path.join(mount, recorded));
  if (path.dirname(dir) !== parent || !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(path.basename(dir)))
    return { refused: "not a run cgroup under " + parent };
  return { dir };
}
/** Pids in the cgroup and whether the kernel still counts it populated (a gone dir: empty). */
function cgroupState(dir) {
  let pids = [], populated = false;
  try {
    pids = fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    populated = /populated 1/.test(fs.readFileSync(path.join(dir, "cgroup.events"), "utf8"));
  } catch {}
  return { pids, busy: pids.length > 0 || populated };
}
function cgroupKill(dir) {
  try {
    fs.writeFileSync(path.join(dir, "cgroup.kill"), "1");
  } catch {}
}
/** rmdir of the (empty) cgroup and its child cgroups, deepest first; true when it is gone. */
function cgroupRemove(dir) {
  try {
    for (const c of fs.readdirSync(dir, { withFileTypes: true })) if (c.isDirectory()) cgroupRemove(path.join(dir, c.name));
    fs.rmdirSync(dir);
    return true;
  } catch (error) {
    return !!error && error.code === "ENOENT";
  }
}
`;
