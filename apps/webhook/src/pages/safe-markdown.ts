import { escapeHtml, safeHref } from "./escape-html";

/**
 * A tiny Markdown subset for agent messages, safe by construction: the whole text is HTML-escaped first, then
 * only these forms become markup — fenced code blocks, `# headings`, `-`/`*` lists, paragraphs, `inline code`,
 * **bold**, *emphasis* and [links](https://…) to http(s) URLs (rel=nofollow noopener). Raw HTML in the input
 * stays visible text; nothing the agent writes can add an attribute, a tag or a script.
 */
export function renderSafeMarkdown(text: string): string {
  const out: string[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let para: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (para.length) out.push(`<p>${para.map(inline).join("<br>")}</p>`);
    if (list.length) out.push(`<ul>${list.map((item) => `<li>${inline(item)}</li>`).join("")}</ul>`);
    para = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const fence = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? "").trim().startsWith(fence[1] ?? "```"); i++)
        body.push(lines[i] ?? "");
      out.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^\s*[-*+]\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      out.push(`<p class="h"><strong>${inline(heading[2] ?? "")}</strong></p>`);
    } else if (item) {
      if (para.length) flush();
      list.push(item[1] ?? "");
    } else if (line.trim() === "") flush();
    else {
      if (list.length) flush();
      para.push(line);
    }
  }
  flush();
  return out.join("\n");
}

/** Inline forms on one line; code spans are cut out first so nothing inside them is formatted. */
function inline(raw: string): string {
  return raw
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : formatted(part)))
    .join("");
}

function formatted(raw: string): string {
  // Links are found in the raw text (so the URL is checked as written), everything else is escaped.
  const pieces: string[] = [];
  const re = /\[([^\]]{1,300})\]\(([^)\s]{1,2000})\)/g;
  let last = 0;
  for (let m = re.exec(raw); m; m = re.exec(raw)) {
    pieces.push(emphasis(escapeHtml(raw.slice(last, m.index))));
    const href = safeHref(m[2]);
    pieces.push(
      href
        ? `<a href="${escapeHtml(href)}" rel="nofollow noopener noreferrer">${emphasis(escapeHtml(m[1] ?? ""))}</a>`
        : escapeHtml(m[0]),
    );
    last = m.index + m[0].length;
  }
  pieces.push(emphasis(escapeHtml(raw.slice(last))));
  return pieces.join("");
}

function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>");
}
