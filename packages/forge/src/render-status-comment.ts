import { isTerminal, type RunRecord, type RunState, redactSecrets } from "@forgehand/core";
import { statusHeadline } from "./status-headline";
import { statusMarker } from "./status-marker";
import { summaryLines } from "./status-summary";

/** GitHub rejects comment bodies over 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_536;

export const STATE_ICONS: Record<RunState, string> = {
  queued: "⏳",
  running: "🔄",
  succeeded: "✅",
  failed: "❌",
  stopped: "🛑",
  timed_out: "⏱️",
  stalled: "💤",
  turn_limit: "🔁",
  budget_limit: "💸",
};

const STATE_WORDS: Record<RunState, string> = {
  queued: "queued",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  stopped: "stopped",
  timed_out: "timed out",
  stalled: "stalled",
  turn_limit: "turn limit reached",
  budget_limit: "budget limit reached",
};

export interface RenderStatusOptions {
  /** Public base URL of the webhook app; links `/api/runs/:id/log` when set. */
  publicUrl?: string;
  /** The run page's signed link (`signedRunUrl`); when given, "Run log" points there instead of the token-only API. */
  runUrl?: (runId: string) => string;
  /** Clock for the elapsed time of a live run. @defaultValue Date.now() */
  now?: number;
  /** The configured stages, to say what comes next after a success. */
  stages?: readonly { name: string; next?: string; output?: string }[];
  /** Tail of the gate's output, quoted in a code block. */
  gateTail?: string;
  /** How many recent actions to list. @defaultValue 8 */
  maxActions?: number;
  /** Literal secret values to redact besides the known token shapes. */
  secrets?: readonly (string | undefined)[];
  /**
   * The process's redactor (`createRedactor(collectSecrets(…)).redact`), applied to every agent- or
   * forge-derived text before it is cut or escaped, so a secret is never shown in part either.
   */
  redact?: (text: string) => string;
}

/** What one comment's texts are cleaned with: the token shapes and `secrets`, then `redact`. */
type Clean = (text: string) => string;

function cleaner(o: RenderStatusOptions): Clean {
  const { secrets, redact } = o;
  return redact ? (text) => redact(redactSecrets(text, secrets)) : (text) => redactSecrets(text, secrets);
}

/** `1h 02m`, `3m 12s`, `45s`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/** One line of untrusted text made inert: no HTML/markers, no @-mentions, no line breaks. */
function inline(text: string, clean: Clean, max = 200): string {
  const flat = clean(text).replace(/\s+/g, " ").trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return cut.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/@/g, "@\u200b");
}

/** A fenced block that untrusted text cannot close early: the fence is longer than any backtick run inside. */
function codeBlock(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

/** An http(s) URL as a Markdown link target (no spaces or parentheses that could end it), else undefined. */
function safeLink(url: string): string | undefined {
  if (!/^https?:\/\/[^\s()<>]+$/.test(url)) return undefined;
  return url;
}

function money(n: number): string {
  return `$${n.toFixed(2)}`;
}

function resultLines(r: RunRecord, o: RenderStatusOptions, gateRoom: number): string[] {
  const s = cleaner(o);
  const out: string[] = [];
  const reason = r.reason ? inline(r.reason, s, 500) : "";
  switch (r.state) {
    case "queued":
      // Back in the queue after an attempt: say why and when it tries again (a 429's Retry-After, a shutdown).
      if (reason) out.push(`**Waiting:** ${reason}`);
      break;
    case "succeeded": {
      // The PR and branch are links in the headline; only what comes next is said here.
      const next = o.stages?.find((st) => st.name === r.stage)?.next;
      if (next) out.push(`**Next:** stage \`${inline(next, s, 60)}\` starts.`);
      break;
    }
    case "stopped":
      out.push(
        `**Result:** stopped${r.stoppedBy ? ` by @${r.stoppedBy.replace(/[^A-Za-z0-9[\]_.-]/g, "")}` : ""}${reason ? `: ${reason}` : "."}`,
      );
      break;
    case "timed_out":
      out.push(`**Result:** hit the wall-clock timeout${reason ? `: ${reason}` : "."}`);
      break;
    case "stalled":
      out.push(`**Result:** no output for too long (stall limit)${reason ? `: ${reason}` : "."}`);
      break;
    case "turn_limit":
      out.push(`**Result:** used all ${r.maxTurns ?? r.turns} tool turns${reason ? `: ${reason}` : "."}`);
      break;
    case "budget_limit":
      // A `budgets:` cap shared by runs (per issue, repository or installation), not this run's own budget.
      if (/\bbudgets\.\w+Usd\b/.test(r.reason ?? "")) {
        out.push(`**Result:** spend cap reached: ${reason}`);
        break;
      }
      out.push(
        `**Result:** reached the ${r.budgetUsd !== undefined ? money(r.budgetUsd) : ""} budget${reason ? `: ${reason}` : "."}`.replace(
          "the  budget",
          "the budget",
        ),
      );
      break;
    case "failed":
      out.push(`**Result:** failed${reason ? `: ${reason}` : "."}`);
      break;
    default:
      break;
  }
  if (o.gateTail && isTerminal(r.state) && gateRoom > 0) {
    let tail = s(o.gateTail).replace(/\r\n?/g, "\n");
    if (tail.length > gateRoom) tail = `…${tail.slice(tail.length - gateRoom)}`;
    out.push("", "<details><summary>Gate output (tail)</summary>", "", codeBlock(tail), "", "</details>");
  }
  return out;
}

/** The markdown of a run's status comment (starts with its hidden marker). */
export function renderStatusComment(record: RunRecord, opts: RenderStatusOptions = {}): string {
  const build = (gateRoom: number, actionCount: number, summaryRoom: number) => {
    const r = record;
    const s = cleaner(opts);
    const now = opts.now ?? Date.now();
    const start = r.startedAt ?? r.createdAt;
    const elapsed = r.state === "queued" && !r.startedAt ? 0 : (r.endedAt ?? now) - start;
    const live = !isTerminal(r.state);
    const icon = STATE_ICONS[r.state];
    const elapsedText =
      r.state === "queued" ? (r.attempts > 0 ? "waiting to retry" : "waiting to start") : formatElapsed(elapsed);
    const lines = [
      statusMarker(r.id),
      statusHeadline(r, {
        icon,
        words: STATE_WORDS[r.state],
        elapsed: elapsedText,
        inline: (text, max) => inline(text, s, max),
        clean: s,
        link: (url) => safeLink(url),
      }),
    ];
    const limits = [
      r.maxTurns !== undefined ? `${r.maxTurns} tool turns` : "",
      r.budgetUsd !== undefined ? money(r.budgetUsd) : "",
    ].filter(Boolean);
    if (limits.length) lines.push("", `<sub>Limits: ${limits.join(" · ")}</sub>`);
    // The agent's own retry/rate-limit wait: said so, a quiet run is not a stuck one.
    if (live && r.waiting) lines.push("", `⏳ waiting: ${inline(r.waiting, s, 120)}`);
    // Said on every comment of such a run: the operator chose `sandbox: { enabled: false }` for this agent.
    if (r.sandboxed === false) {
      lines.push("", "> ⚠ unsandboxed: this agent runs as the runner itself, with its files and network.");
    }
    const actions = r.lastActions.slice(-actionCount);
    if (actions.length) {
      lines.push("", "**Last actions**", "");
      actions.forEach((a, i) => {
        const current = live && r.state === "running" && i === actions.length - 1;
        lines.push(`- [${current ? " " : "x"}] ${inline(a, s)}`);
      });
    }
    const result = resultLines(r, opts, gateRoom);
    if (result.length) lines.push("", ...result);
    if (isTerminal(r.state) && r.output) {
      const mode = opts.stages?.find((st) => st.name === r.stage)?.output ?? "summary";
      lines.push("", ...summaryLines(r.output, mode, s, summaryRoom));
    }
    lines.push("");
    if (opts.runUrl) lines.push(`📜 [Run log](${opts.runUrl(r.id)})`, "");
    else if (opts.publicUrl)
      lines.push(`📜 [Run log](${opts.publicUrl.replace(/\/+$/, "")}/api/runs/${encodeURIComponent(r.id)}/log)`, "");
    lines.push(
      live
        ? "To stop this run, comment `/stop` on this issue."
        : "Comment `/retry` to run this stage again, or `/help` for all commands.",
    );
    lines.push("", `<sub>forgehand run \`${r.id}\`${r.trigger ? ` · ${inline(r.trigger, s, 80)}` : ""}</sub>`);
    return lines.join("\n");
  };
  const maxActions = opts.maxActions ?? 8;
  let body = build(8000, maxActions, 40_000);
  if (body.length <= MAX_COMMENT_CHARS) return body;
  body = build(2000, Math.min(maxActions, 3), 10_000);
  return body.length <= MAX_COMMENT_CHARS ? body : `${body.slice(0, MAX_COMMENT_CHARS - 2)}\n…`;
}
