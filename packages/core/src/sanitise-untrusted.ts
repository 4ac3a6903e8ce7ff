/**
 * Removes what a reader of an issue on the forge cannot see but an agent (or a parser) would read:
 * the places prompt injection and hidden commands hide in. Modelled on claude-code-action's
 * sanitiser (HTML comments, invisible and bidi characters, hidden attributes, image alt text, link
 * titles, numeric entities), plus Unicode tag characters (U+E0000–E007F, "ASCII smuggling") and
 * supplementary variation selectors (U+E0100–E01EF), which carry bytes the same way.
 */

/**
 * Zero-width and joiner characters, soft hyphen, BOM, word joiner and invisible operators,
 * Mongolian vowel separator, Arabic letter mark, LRM/RLM, bidi embeddings/overrides/isolates,
 * and C0/C1 controls except tab, LF and CR. Ordinary variation selectors (U+FE00–FE0F) stay: emoji use them.
 */
const INVISIBLE_RANGES: [number, number][] = [
  [0x00, 0x08],
  [0x0b, 0x0c],
  [0x0e, 0x1f],
  [0x7f, 0x9f],
  [0xad, 0xad],
  [0x061c, 0x061c],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x2064],
  [0x2066, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0xe0000, 0xe007f], // tag characters
  [0xe0100, 0xe01ef], // variation selectors 17–256
];
const hex = (n: number) => `\\u{${n.toString(16)}}`;
const INVISIBLE = new RegExp(`[${INVISIBLE_RANGES.map(([a, b]) => `${hex(a)}-${hex(b)}`).join("")}]`, "gu");

/** An unterminated `<!--` hides the rest of the text on GitHub, so it is stripped to the end. */
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;

/**
 * An HTML open tag as CommonMark defines it (what makes GitHub and Gitea treat it as HTML); quoted
 * values may hold `>` and newlines. Attribute names cannot hold `<`, so a failed match stops at the
 * next `<` and scanning stays linear.
 */
const START_TAG =
  /<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^"'=<>`\s]+|'[^']*'|"[^"]*"))?)*\s*\/?>/g;

/** Attributes a browser does not show as text. */
const HIDDEN_ATTRIBUTE =
  /\s(?:alt|title|aria-[a-z-]+|data-[a-z0-9-]*|placeholder|label)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?(?=[\s/>])/gi;

/** `![alt](url)`: the alt text is not shown where the image loads. One level of nested brackets, as in link text. */
const IMAGE_ALT = /!\[(?:[^[\]]|\[[^[\]]*\])*\]\(/g;

/** `[text](url "title")`: the title shows only on hover. Titles may span lines in CommonMark. */
const LINK_TITLE = /(\[(?:[^[\]]|\[[^[\]]*\])*\]\([^)\s]*)\s+(?:"[^"]*"|'[^']*'|\([^)]*\))\s*\)/g;

/** `&#47;stop`: numeric entities decode on the forge; printable ASCII is decoded, anything else dropped. */
const NUMERIC_ENTITY = /&#(?:(\d{1,7})|[xX]([0-9a-fA-F]{1,6}));/g;

/** Invisible, bidi-control and tag characters only (the cheap part, also used inside single tokens). */
export function stripInvisibleCharacters(text: string): string {
  return text.replace(INVISIBLE, "");
}

/** HTML comments only (terminated or not). */
export function stripHtmlComments(text: string): string {
  return text.replace(HTML_COMMENT, "");
}

/** Hidden attributes removed from every start tag; text outside tags is left alone. */
export function stripHiddenAttributes(text: string): string {
  return text.replace(START_TAG, (tag) => tag.replace(HIDDEN_ATTRIBUTE, ""));
}

function decodeEntity(_all: string, dec: string | undefined, hex: string | undefined): string {
  const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex as string, 16);
  return code >= 0x20 && code <= 0x7e ? String.fromCharCode(code) : "";
}

/**
 * Everything a reader of the rendered issue would not see, removed: comments, invisible characters,
 * hidden attributes, image alt text and link titles; numeric entities decoded to the ASCII they show.
 * Entities are decoded after the other passes so `&#60;!--` cannot build a comment that survives, and
 * invisible characters are stripped again because decoding never yields them (only printable ASCII).
 */
export function sanitiseUntrusted(text: string): string {
  let out = stripInvisibleCharacters(text);
  out = stripHtmlComments(out);
  out = out.replace(IMAGE_ALT, "![](");
  out = out.replace(LINK_TITLE, "$1)");
  out = stripHiddenAttributes(out);
  out = out.replace(NUMERIC_ENTITY, decodeEntity);
  // Decoding can assemble `<!--` or a tag from entities: one more pass of the HTML parts.
  return stripHiddenAttributes(stripHtmlComments(out));
}
