import { type RunRecord, RunState } from "@forgehand/core";
import { escapeHtml } from "./escape-html";
import { headerFields } from "./run-detail-page";

/** `/runs` filters from the query string; each must match exactly (repo case-insensitively). */
export interface RunFilters {
  repo?: string;
  state?: string;
  stage?: string;
}

/** Parses the filters, refusing a state that does not exist (a clear 400 rather than an empty list). */
export function parseRunFilters(q: Record<string, string | undefined>): RunFilters | { error: string } {
  const pick = (k: string) => (q[k]?.trim() ? q[k]?.trim() : undefined);
  const state = pick("state");
  if (state && !RunState.safeParse(state).success)
    return { error: `Expected state to be one of ${RunState.options.join(", ")}, got \`${state}\`` };
  const out: RunFilters = {};
  const repo = pick("repo");
  const stage = pick("stage");
  if (repo) out.repo = repo;
  if (state) out.state = state;
  if (stage) out.stage = stage;
  return out;
}

export function matchesFilters(run: RunRecord, f: RunFilters): boolean {
  return (
    (!f.repo || run.repo.toLowerCase() === f.repo.toLowerCase()) &&
    (!f.state || run.state === f.state) &&
    (!f.stage || run.stage === f.stage)
  );
}

/** The body of `/runs`: a filter form (GET, so a filtered view is a link) and one row per run. */
export function renderRunList(runs: RunRecord[], f: RunFilters, redact: (text: string) => string): string {
  const input = (name: keyof RunFilters, label: string) =>
    `<label>${label} <input name="${name}" value="${escapeHtml(f[name] ?? "")}"></label>`;
  const states = ["", ...RunState.options]
    .map((s) => `<option value="${s}"${f.state === s ? " selected" : ""}>${s || "any"}</option>`)
    .join("");
  const rows = runs.map((r) => {
    const h = headerFields(r);
    return `<tr data-run="${escapeHtml(r.id)}"><td><a href="/runs/${encodeURIComponent(r.id)}">${escapeHtml(`${r.repo}#${r.issue}`)}</a></td><td>${escapeHtml(r.stage)}</td><td><span class="state ${escapeHtml(r.state)}">${escapeHtml(r.state)}</span></td><td>${escapeHtml(h.elapsed ?? "")}</td><td>${escapeHtml(h.turns ?? "")}</td><td>${escapeHtml(h.cost ?? "")}</td><td>${escapeHtml(new Date(r.createdAt).toISOString().replace("T", " ").slice(0, 19))}</td><td title="${escapeHtml(redact(r.reason ?? ""))}">${escapeHtml(redact(r.reason ?? "").slice(0, 80))}</td></tr>`;
  });
  return [
    `<h1>Runs</h1>`,
    `<form class="filters" method="get" action="/runs">${input("repo", "Repo")} <label>State <select name="state">${states}</select></label> ${input("stage", "Stage")} <button type="submit">Filter</button> <a href="/runs">clear</a></form>`,
    `<table id="runs"><thead><tr><th>Issue</th><th>Stage</th><th>State</th><th>Elapsed</th><th>Turns</th><th>Cost</th><th>Created (UTC)</th><th>Reason</th></tr></thead><tbody>`,
    rows.join("\n") || `<tr><td colspan="8">No runs match.</td></tr>`,
    `</tbody></table>`,
  ].join("\n");
}
