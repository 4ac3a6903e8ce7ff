import { formatCost, formatDuration, isTerminal, type RunRecord, type Stage } from "@forgehand/core";
import { escapeHtml } from "./escape-html";
import { type ForgeWebUrls, forgeLinks } from "./forge-links";
import { renderSafeMarkdown } from "./safe-markdown";

/** What the header's live fields show; also sent as the SSE `state` event. */
export function headerFields(run: RunRecord, now = Date.now()): Record<string, string> {
  const end = run.endedAt ?? (isTerminal(run.state) ? run.startedAt : now);
  return {
    state: run.state,
    turns: `${run.turns}${run.maxTurns ? ` / ${run.maxTurns}` : ""}`,
    cost: `${formatCost(run.costUsd, run.costEstimated)}${run.budgetUsd !== undefined ? ` / $${run.budgetUsd.toFixed(2)}` : ""}`,
    elapsed: run.startedAt ? formatDuration(Math.max(0, (end ?? now) - run.startedAt)) : "—",
    reason: run.reason ?? "",
  };
}

/** The run's summary: the record's `output`/`summary` (added by the RunOutcome work) when it has one. */
function summaryOf(run: RunRecord): string | undefined {
  const r = run as Record<string, unknown>;
  const text = r.output ?? r.summary;
  return typeof text === "string" && text.trim() ? text : undefined;
}

export interface RunDetailView {
  run: RunRecord;
  /** Rendered action items (already safe HTML), oldest first. */
  actions: string[];
  /** Gate lines (already redacted text). */
  gate: string[];
  /** Result text of the agent's final `result` event, when the record has no summary. */
  resultText?: string;
  /** URL of the SSE stream (with the page's own signature), only while the run is live. */
  eventsUrl?: string;
  /** The CSRF token of an operator's session: shows the Stop button. */
  csrf?: string;
  stage?: Stage;
  web: ForgeWebUrls;
  redact: (text: string) => string;
}

/** The body of `/runs/:id`: header with state and limits, links, summary, gate output, actions. */
export function renderRunDetail(v: RunDetailView): string {
  const { run } = v;
  const f = headerFields(run);
  const field = (name: string, label: string) =>
    `<dt>${label}</dt><dd data-f="${name}">${escapeHtml(v.redact(f[name] ?? ""))}</dd>`;
  const links = forgeLinks(run, v.web);
  const link = (href: string | undefined, text: string) =>
    href ? `<a href="${escapeHtml(href)}" rel="noopener noreferrer">${escapeHtml(text)}</a>` : escapeHtml(text);
  const limits = v.stage?.limits ?? {};
  const limitText = [
    limits.timeout !== undefined ? `timeout ${formatDuration(limits.timeout)}` : "",
    limits.stall !== undefined ? `stall ${formatDuration(limits.stall)}` : "",
    run.maxTurns ? `${run.maxTurns} turns` : "",
    run.budgetUsd !== undefined ? `$${run.budgetUsd.toFixed(2)} budget` : "",
  ].filter(Boolean);
  const stop =
    v.csrf && !isTerminal(run.state)
      ? `<form method="post" action="/runs/${encodeURIComponent(run.id)}/stop"><input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}"><button type="submit" id="stop">Stop</button></form>`
      : "";
  const summary = summaryOf(run) ?? v.resultText;
  const parts = [
    `<h1>${link(links.issue, `${run.repo}#${run.issue}`)} · ${escapeHtml(run.stage)} <span id="state" class="state ${escapeHtml(run.state)}" data-f="state">${escapeHtml(run.state)}</span></h1>`,
    stop,
    `<dl class="meta">`,
    field("turns", "Turns"),
    field("cost", "Cost"),
    field("elapsed", "Elapsed"),
    `<dt>Limits</dt><dd>${escapeHtml(limitText.join(" · ") || "none")}</dd>`,
    `<dt>Branch</dt><dd>${run.branch ? link(links.branch, run.branch) : "—"}</dd>`,
    `<dt>Pull request</dt><dd>${links.pr ? link(links.pr, links.pr) : "—"}</dd>`,
    `<dt>Attempts</dt><dd>${run.attempts}${run.runner ? ` · runner ${escapeHtml(v.redact(run.runner))}` : ""}</dd>`,
    run.trigger ? `<dt>Trigger</dt><dd>${escapeHtml(v.redact(run.trigger))}</dd>` : "",
    run.sandboxed === false ? `<dt>Sandbox</dt><dd>⚠ unsandboxed</dd>` : "",
    field("reason", "Reason"),
    `</dl>`,
    summary
      ? `<section id="summary"><h2>Summary</h2><div class="md">${renderSafeMarkdown(v.redact(summary))}</div></section>`
      : "",
    v.gate.length
      ? `<section id="gate"><h2>Gate</h2><pre>${escapeHtml(v.gate.map(v.redact).join("\n"))}</pre></section>`
      : "",
    `<section><h2>Actions</h2><ol id="actions" class="acts">${v.actions.join("")}</ol></section>`,
  ];
  return `<div id="run" data-id="${escapeHtml(run.id)}"${v.eventsUrl ? ` data-events="${escapeHtml(v.eventsUrl)}"` : ""}>${parts.join("\n")}</div>`;
}

/** The page's only script: follow the SSE stream, append actions, update the header, reload at the end. */
export const RUN_PAGE_SCRIPT = `
(() => {
  const root = document.getElementById("run");
  const url = root && root.dataset.events;
  if (!url) return;
  const list = document.getElementById("actions");
  const es = new EventSource(url);
  es.addEventListener("action", (ev) => list.insertAdjacentHTML("beforeend", ev.data));
  es.addEventListener("state", (ev) => {
    const s = JSON.parse(ev.data);
    for (const [k, v] of Object.entries(s)) {
      const el = root.querySelector('[data-f="' + k + '"]');
      if (el) el.textContent = v;
    }
    document.getElementById("state").className = "state " + s.state;
  });
  es.addEventListener("end", () => { es.close(); setTimeout(() => location.reload(), 300); });
})();`;
