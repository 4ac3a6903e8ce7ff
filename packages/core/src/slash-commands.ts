/** A slash command found in a comment. */
export type SlashCommand =
  | { name: "stop" }
  | { name: "retry" }
  | { name: "status" }
  | { name: "help" }
  | { name: "run"; stage: string }
  | { name: "unknown"; raw: string };

import { sanitiseUntrusted } from "./sanitise-untrusted";

const KNOWN = new Set(["stop", "retry", "status", "help", "run"]);

/**
 * Finds slash commands at the start of a line, outside fenced code blocks,
 * inline code and `>` quotes. Case-insensitive; several per comment; trailing
 * text after a command is ignored (except `/run`'s stage name). A word that
 * looks like a command but is not one (`/foo`) is reported as `unknown` so the
 * bot can answer with what exists; paths like `/usr/bin` are not commands.
 * Only text a person sees on the forge counts: HTML comments, hidden attributes, link titles and
 * invisible characters are removed first (`sanitiseUntrusted`), so `<!--\n/stop\n-->` is nothing and
 * a zero-width or tag character inside `/st\u200Bop` cannot smuggle a different command than the one shown.
 */
export function parseSlashCommands(body: string): SlashCommand[] {
  const out: SlashCommand[] = [];
  let fence: string | null = null;
  for (const rawLine of sanitiseUntrusted(body).split(/\r\n|\r|\n/)) {
    const line = rawLine.replace(/^\s{0,3}/, "");
    const fenceMatch = /^(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1] as string;
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null;
      continue;
    }
    if (fence !== null) continue;
    if (line.startsWith(">")) continue;
    const m = /^\/([a-z][a-z0-9_-]*)(?=$|\s)(.*)$/i.exec(line);
    if (!m) continue;
    const name = (m[1] as string).toLowerCase();
    const rest = (m[2] as string).trim();
    if (!KNOWN.has(name)) {
      out.push({ name: "unknown", raw: `/${m[1]}` });
      continue;
    }
    if (name === "run") {
      const stage = /^([^\s`]+)/.exec(rest)?.[1];
      out.push(stage ? { name: "run", stage } : { name: "unknown", raw: "/run" });
      continue;
    }
    out.push({ name } as SlashCommand);
  }
  return out;
}
