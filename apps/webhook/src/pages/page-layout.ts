import { randomBytes } from "node:crypto";
import { html, raw } from "hono/html";
import { escapeHtml } from "./escape-html";

/** A fresh nonce per response: the only script and style the CSP lets run are the ones this page carries. */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/** The pages' Content-Security-Policy: nothing from anywhere but this origin, no inline code without the nonce. */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header.top{background:#24292f;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header.top a{color:#fff;text-decoration:none}main{max-width:1100px;margin:16px auto;padding:0 16px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:6px 8px;border-bottom:1px solid #d0d7de;text-align:left}
.state{font-weight:600;padding:1px 8px;border-radius:10px;background:#ddd}.state.running,.state.queued{background:#ddf4ff}
.state.succeeded{background:#dafbe1}.state.failed,.state.timed_out,.state.stalled,.state.turn_limit,.state.budget_limit{background:#ffebe9}
.state.stopped{background:#fff8c5}dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;background:#fff;padding:12px;border:1px solid #d0d7de}
dl.meta dt{color:#57606a}dl.meta dd{margin:0}ol.acts{list-style:none;padding:0}
li.act{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:4px 0;padding:6px 10px}
li.act time{color:#57606a;font-size:12px;margin-right:8px;float:right}li.sys,li.gate{background:#f6f8fa}li.err,li.out.err{border-color:#ff8182}
pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;font-size:12px}.tool{font-weight:600}
section{margin:16px 0}form.inline{display:inline}button{cursor:pointer}.filters{margin:8px 0}
.md p{margin:4px 0}.notice{background:#fff8c5;padding:8px;border:1px solid #d4a72c}`;

/** The document shell: CSP-nonced style and (optional) script, a top bar, and `body` (already safe HTML). */
export function pageShell(opts: { title: string; nonce: string; body: string; script?: string; operator: boolean }) {
  const nav = opts.operator
    ? `<a href="/runs">Runs</a><form class="inline" method="post" action="/logout"><button type="submit">Log out</button></form>`
    : `<a href="/login">Operator login</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${opts.title} · forgehand</title>
<style nonce="${opts.nonce}">${raw(STYLE)}</style>
</head>
<body>
<header class="top"><strong>forgehand</strong>${raw(nav)}</header>
<main>${raw(opts.body)}</main>
${opts.script ? raw(`<script nonce="${escapeHtml(opts.nonce)}">${opts.script}</script>`) : ""}
</body>
</html>`;
}
