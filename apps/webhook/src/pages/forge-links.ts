import type { RunRecord } from "@forgehand/core";
import { safeHref } from "./escape-html";

/** Web origins of the forges (`https://github.com`, the Gitea URL), for links to issues and branches. */
export interface ForgeWebUrls {
  github?: string;
  gitea?: string;
}

/** Links of one run on its forge: issue (or PR), branch, pull request; only http(s) URLs survive. */
export function forgeLinks(run: RunRecord, web: ForgeWebUrls): { issue?: string; branch?: string; pr?: string } {
  const base = safeHref(web[run.forge])?.replace(/\/+$/, "");
  const repo = run.repo.split("/").map(encodeURIComponent).join("/");
  const branch = run.branch?.split("/").map(encodeURIComponent).join("/");
  const out: { issue?: string; branch?: string; pr?: string } = {};
  if (base) {
    out.issue = `${base}/${repo}/${run.isPr ? (run.forge === "gitea" ? "pulls" : "pull") : "issues"}/${run.issue}`;
    if (branch)
      out.branch = run.forge === "gitea" ? `${base}/${repo}/src/branch/${branch}` : `${base}/${repo}/tree/${branch}`;
  }
  const pr = safeHref(run.prUrl);
  if (pr) out.pr = pr;
  return out;
}
