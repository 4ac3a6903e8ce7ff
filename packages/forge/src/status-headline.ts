import { formatCost, isTerminal, type RunRecord } from "@forgehand/core";

/** The login a run's `trigger` (`label by alice`) names, reduced to a login's characters; undefined for operators. */
export function requesterOf(trigger: string | undefined): string | undefined {
  const m = / by @?([A-Za-z0-9_.-]+(?:\[bot\])?)$/.exec(trigger ?? "");
  return m && m[1] !== "operator" ? m[1] : undefined;
}

/** `#43` of a PR URL (its last path segment), or undefined. */
function prNumber(url: string): string | undefined {
  return /\/(\d+)\/?$/.exec(url)?.[1];
}

/** What the headline needs besides the record: the state's icon and words, the clock and how to make text inert. */
export interface HeadlineParts {
  icon: string;
  words: string;
  elapsed: string | undefined;
  inline: (text: string, max?: number) => string;
  /** The comment's redactor: the trigger is redacted before a login is read from it. */
  clean: (text: string) => string;
  /** A URL made safe for a Markdown link target, or undefined when it is not http(s). */
  link: (url: string) => string | undefined;
}

/**
 * `✅ develop succeeded for @alice in 12m 34s · 31 tool turns · $1.42 — PR #43 · branch`: everything a reader
 * wants first, in one line; the PR and branch are links once they exist.
 */
export function statusHeadline(r: RunRecord, p: HeadlineParts): string {
  const who = requesterOf(r.trigger && p.clean(r.trigger));
  const live = !isTerminal(r.state);
  let line = `${p.icon} \`${p.inline(r.stage, 60)}\` ${p.words}${who ? ` for @${who}` : ""}`;
  if (p.elapsed) line += live ? ` · ${p.elapsed}` : ` in ${p.elapsed}`;
  // `live` covers queued: "waiting to start" reads after a dot, a duration after "in".
  if (r.state !== "queued" || r.turns > 0) {
    line += ` · ${r.turns} tool ${r.turns === 1 ? "turn" : "turns"} · ${formatCost(r.costUsd, r.costEstimated)}`;
  }
  const links: string[] = [];
  const pr = r.prUrl ? p.link(r.prUrl) : undefined;
  if (pr) links.push(`[PR #${prNumber(pr) ?? "?"}](${pr})`);
  const branch = r.branchUrl ? p.link(r.branchUrl) : undefined;
  if (branch) links.push(`[branch](${branch})`);
  else if (r.branch) links.push(`\`${p.inline(r.branch, 120)}\``);
  if (links.length) line += ` — ${links.join(" · ")}`;
  return `### ${line}`;
}
