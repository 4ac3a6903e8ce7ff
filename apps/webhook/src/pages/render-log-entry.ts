import type { LogEntry } from "@forgehand/queue";
import { escapeHtml } from "./escape-html";
import { renderSafeMarkdown } from "./safe-markdown";

/** How much of one tool input or output is shown; the rest is cut (the raw log keeps it all). */
const MAX_SHOWN = 20_000;

function cut(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}\n… [${text.length - MAX_SHOWN} more characters]` : text;
}

function time(at: number): string {
  return `<time datetime="${new Date(at).toISOString()}">${new Date(at).toISOString().slice(11, 19)}</time>`;
}

function item(e: LogEntry, kind: string, body: string): string {
  return `<li class="act ${kind}" data-id="${escapeHtml(e.id)}">${time(e.at)}${body}</li>`;
}

function folded(summary: string, content: string, kind = ""): string {
  return `<details class="${kind}"><summary>${summary}</summary><pre>${escapeHtml(cut(content))}</pre></details>`;
}

/** One line of a tool call: the command of a Bash call, the path of a file tool, else the input as JSON. */
function toolHeadline(name: string, input: Record<string, unknown>): string {
  const pick = input.command ?? input.file_path ?? input.path ?? input.pattern ?? input.url ?? input.description;
  const shown = typeof pick === "string" ? pick : JSON.stringify(input);
  const flat = shown.replace(/\s+/g, " ");
  return `<span class="tool">${escapeHtml(name)}</span> <code>${escapeHtml(flat.length > 160 ? `${flat.slice(0, 159)}…` : flat)}</code>`;
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((c) =>
        c && typeof c === "object" && typeof (c as { text?: unknown }).text === "string"
          ? (c as { text: string }).text
          : "",
      )
      .join("\n");
  return JSON.stringify(content ?? "");
}

type Block = {
  type?: string;
  text?: string;
  name?: string;
  input?: Record<string, unknown>;
  content?: unknown;
  is_error?: boolean;
};

/** The blocks of one stream-json event (Claude Code's `assistant`/`user` messages), rendered one by one. */
function renderEvent(e: LogEntry, event: Record<string, unknown>): string[] | undefined {
  const message = event.message as { content?: unknown } | undefined;
  if ((event.type === "assistant" || event.type === "user") && Array.isArray(message?.content)) {
    const out: string[] = [];
    for (const b of message.content as Block[]) {
      if (b.type === "text" && b.text?.trim())
        out.push(item(e, "msg", `<div class="md">${renderSafeMarkdown(b.text)}</div>`));
      else if (b.type === "tool_use")
        out.push(
          item(
            e,
            "call",
            folded(toolHeadline(b.name ?? "tool", b.input ?? {}), JSON.stringify(b.input ?? {}, null, 2)),
          ),
        );
      else if (b.type === "tool_result") {
        const text = resultText(b.content);
        const lines = text.split("\n").length;
        out.push(
          item(
            e,
            b.is_error ? "out err" : "out",
            folded(`output · ${lines} line${lines === 1 ? "" : "s"}${b.is_error ? " · error" : ""}`, text),
          ),
        );
      }
    }
    return out;
  }
  if (event.type === "result") {
    const text = typeof event.result === "string" ? event.result : "";
    return [
      item(e, "result", `<strong>Result</strong>${text ? `<div class="md">${renderSafeMarkdown(text)}</div>` : ""}`),
    ];
  }
  if (event.type === "system" && event.subtype === "init")
    return [
      item(
        e,
        "sys",
        `session started${typeof event.model === "string" ? ` · model <code>${escapeHtml(event.model)}</code>` : ""}`,
      ),
    ];
  return undefined;
}

/**
 * One run-log line as list items for people: an agent's stream-json event becomes its messages (safe Markdown),
 * tool calls and outputs (folded in `<details>`); forgehand's own lines and anything unparsed are shown as text.
 * `redact` runs on the raw line first, so a secret is never rendered, even inside a JSON string.
 */
export function renderLogEntry(entry: LogEntry, redact: (text: string) => string): string[] {
  const e = { ...entry, line: redact(entry.line) };
  if (e.stream === "stdout" && e.line.startsWith("{")) {
    try {
      const parsed = JSON.parse(e.line) as unknown;
      if (parsed && typeof parsed === "object") {
        const out = renderEvent(e, parsed as Record<string, unknown>);
        if (out) return out;
        // Bookkeeping events (hooks, rate-limit notices, stream deltas) would drown the page.
        return [];
      }
    } catch {
      // Not JSON after all: shown as text below.
    }
  }
  if (e.stream === "system" && e.line.startsWith("gate: "))
    return [item(e, "gate", `<pre>${escapeHtml(cut(e.line.slice(6)))}</pre>`)];
  const kind = e.stream === "system" ? "sys" : e.stream === "stderr" ? "err" : "text";
  return [item(e, kind, `<pre>${escapeHtml(cut(e.line))}</pre>`)];
}
