/**
 * The web page comparing `branch` with `base`, from an http(s) clone URL (`https://host/o/r.git` →
 * `https://host/o/r/compare/base...branch`; GitHub and Gitea/Forgejo both serve it). Undefined for other
 * URLs (ssh, file://); credentials in the URL are never kept.
 */
export function branchCompareUrl(cloneUrl: string, base: string, branch: string): string | undefined {
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const path = url.pathname.replace(/\/+$/, "").replace(/\.git$/, "");
  const enc = (ref: string) => ref.split("/").map(encodeURIComponent).join("/");
  return `${url.protocol}//${url.host}${path}/compare/${enc(base)}...${enc(branch)}`;
}

/** `text` with the worktree's absolute path removed: an action reads `Edit src/a.ts`, not the runner's layout. */
export function relativeToWorktree(text: string, worktree: string): string {
  const root = worktree.replace(/\/+$/, "");
  if (!root) return text;
  return text.split(`${root}/`).join("").split(root).join(".");
}
