/** `kill -0` succeeds: the process exists (a zombie counts as alive here). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
