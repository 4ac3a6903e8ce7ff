import { REDACTED } from "./redact-constants";

export interface LiteralMatcher {
  replace(text: string): string;
  /** Index of the first literal occurrence in `text`, or -1. */
  find(text: string): number;
  /** The literals that share characters with the marker. */
  markerish: readonly string[];
}

interface TrieNode {
  next: Map<string, TrieNode>;
  end: boolean;
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/-]/;
export const escapeChar = (ch: string) => (REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch);

/**
 * One RegExp whose alternatives are the literals arranged as a prefix trie, so a text position that
 * starts no literal costs one failed character test per distinct first character (not per literal),
 * and a greedy `(…)?` at each end node makes the longest literal win at a position.
 */
function trieSource(literals: readonly string[]): string {
  const root: TrieNode = { next: new Map(), end: false };
  for (const lit of literals) {
    let node = root;
    for (const ch of lit) {
      let child = node.next.get(ch);
      if (!child) {
        child = { next: new Map(), end: false };
        node.next.set(ch, child);
      }
      node = child;
    }
    node.end = true;
  }
  const gen = (start: TrieNode): string => {
    // Follow single-child chains iteratively (a PEM line is a 64-node chain).
    let prefix = "";
    let node = start;
    while (node.next.size === 1 && !node.end) {
      const [ch, child] = node.next.entries().next().value as [string, TrieNode];
      prefix += escapeChar(ch);
      node = child;
    }
    if (node.next.size === 0) return prefix;
    const alts = [...node.next].map(([ch, child]) => escapeChar(ch) + gen(child));
    const body = alts.length === 1 ? alts[0] : `(?:${alts.join("|")})`;
    return prefix + (node.end ? `(?:${body})?` : body);
  };
  return gen(root);
}

export function buildLiteralMatcher(literals: readonly string[]): LiteralMatcher | undefined {
  if (literals.length === 0) return undefined;
  const markerish = literals.filter((l) => l.includes("[") || l.includes("]"));
  const shortest = Math.min(...literals.map((l) => l.length));
  if (shortest < 2) {
    // Only with a `minLength` below 2; the trie RegExp is correct for any length.
    const re = new RegExp(trieSource(literals), "g");
    return {
      replace: (text) => mergeHits(text, regexHits(re, text)),
      find: (t) => firstHit(regexHits(re, t)),
      markerish,
    };
  }
  const scan = qgramScanner(literals, shortest);
  return { replace: (text) => mergeHits(text, scan(text)), find: (text) => firstHit(scan(text)), markerish };
}

/** Every `[start, end)` where a literal occurs, overlapping ones included. */
type Hits = number[];

function regexHits(re: RegExp, text: string): Hits {
  const hits: Hits = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    hits.push(m.index, m.index + m[0].length);
    re.lastIndex = m.index + 1; // a literal starting inside this hit may reach beyond it
  }
  return hits;
}

/**
 * Finds literals (all at least `m` long) by hashing `q`-character windows of the text at a stride of
 * `s = m - q + 1`: every occurrence covers one such window starting at one of its first `s` offsets, so
 * the text is read once, every `s`-th window costs a hash and a bitmap probe, and only a bitmap hit is
 * checked with `startsWith`. Speed does not depend on how many literals there are.
 */
function qgramScanner(literals: readonly string[], m: number): (text: string) => Hits {
  const q = Math.min(4, m - 1 > 0 ? Math.ceil(m / 2) : 1);
  const stride = m - q + 1;
  // About 32 bitmap slots per window hash keeps false probes rare; 4 KiB to 1 MiB.
  const windows = literals.length * stride;
  const BITS = 2 ** Math.min(20, Math.max(12, Math.ceil(Math.log2(windows * 32))));
  const bitmap = new Uint8Array(BITS);
  const byHash = new Map<number, { lit: string; offset: number }[]>();
  const hashAt = (str: string, i: number): number => {
    let h = 0x811c9dc5;
    for (let k = 0; k < q; k++) h = Math.imul(h ^ str.charCodeAt(i + k), 0x01000193);
    return h >>> 0;
  };
  for (const lit of literals) {
    for (let offset = 0; offset < stride && offset + q <= lit.length; offset++) {
      const h = hashAt(lit, offset);
      bitmap[h & (BITS - 1)] = 1;
      const list = byHash.get(h) ?? [];
      byHash.set(h, list);
      if (!list.some((e) => e.lit === lit && e.offset === offset)) list.push({ lit, offset });
    }
  }
  return (text) => {
    const hits: Hits = [];
    const last = text.length - q;
    for (let j = 0; j <= last; j += stride) {
      let h = 0x811c9dc5;
      for (let k = 0; k < q; k++) h = Math.imul(h ^ text.charCodeAt(j + k), 0x01000193);
      h >>>= 0;
      if (bitmap[h & (BITS - 1)] === 0) continue;
      const list = byHash.get(h);
      if (!list) continue;
      for (const { lit, offset } of list) {
        const start = j - offset;
        if (start >= 0 && text.startsWith(lit, start)) hits.push(start, start + lit.length);
      }
    }
    return hits;
  };
}

function firstHit(hits: Hits): number {
  let first = -1;
  for (let i = 0; i < hits.length; i += 2) if (first < 0 || (hits[i] as number) < first) first = hits[i] as number;
  return first;
}

/** Replaces the union of the hit intervals by one marker per connected run. */
function mergeHits(text: string, hits: Hits): string {
  if (hits.length === 0) return text;
  const order = Array.from({ length: hits.length / 2 }, (_, i) => i).sort(
    (x, y) => (hits[2 * x] as number) - (hits[2 * y] as number),
  );
  let out = "";
  let last = 0;
  let start = -1;
  let end = -1;
  for (const i of order) {
    const s = hits[2 * i] as number;
    const e = hits[2 * i + 1] as number;
    if (start >= 0 && s <= end) {
      if (e > end) end = e;
      continue;
    }
    if (start >= 0) {
      out += text.slice(last, start) + REDACTED;
      last = end;
    }
    start = s;
    end = e;
  }
  return out + text.slice(last, start) + REDACTED + text.slice(end);
}

// ---------------------------------------------------------------------------------------------
// Patterns
