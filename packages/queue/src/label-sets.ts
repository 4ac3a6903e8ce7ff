import type { ChainableCommander, Redis } from "ioredis";

/**
 * Gitea's label webhook does not say which label changed (docs/FORGES.md §2.3), so the webhook
 * keeps the last set of *stage* labels seen per issue and diffs the next delivery against it.
 * Only stage labels are stored: other labels never route anywhere, and keeping them out means
 * a change to an unrelated label needs no write at all.
 */
export const LABEL_SET_TTL_S = 90 * 24 * 3600;

/** Key of the stored stage-label set of one issue (`issueKey(ref)`). */
export function labelSetKey(prefix: string, issue: string): string {
  return `${prefix}:labels:${issue}`;
}

/** What changed between the stored set (`null`: never seen) and the set now on the issue. */
export interface LabelDiff {
  added: string[];
  removed: string[];
  /** No stored set: every label present counts as added (level-triggered). */
  firstSighting: boolean;
}

/** Diffs two label sets; order and duplicates in the inputs do not matter. */
export function diffLabelSets(before: readonly string[] | null, after: readonly string[]): LabelDiff {
  const now = new Set(after);
  if (before === null) return { added: [...now].sort(), removed: [], firstSighting: true };
  const old = new Set(before);
  return {
    added: [...now].filter((l) => !old.has(l)).sort(),
    removed: [...old].filter((l) => !now.has(l)).sort(),
    firstSighting: false,
  };
}

/** Encodes a set canonically (sorted, unique) so equal sets compare equal as strings. */
export function encodeLabelSet(labels: readonly string[]): string {
  return JSON.stringify([...new Set(labels)].sort());
}

/** Decodes a stored set; anything unreadable counts as never seen rather than failing the delivery. */
export function decodeLabelSet(raw: string | null | undefined): string[] | null {
  if (raw === null || raw === undefined) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : null;
  } catch {
    return null;
  }
}

/** Reads the stored stage-label set of an issue. */
export async function readLabelSet(redis: Redis, prefix: string, issue: string): Promise<string[] | null> {
  return decodeLabelSet(await redis.get(labelSetKey(prefix, issue)));
}

/** Queues the write of an issue's stage-label set on a MULTI/pipeline, so it commits with the jobs it caused. */
export function writeLabelSet(
  multi: ChainableCommander,
  prefix: string,
  issue: string,
  labels: readonly string[],
): ChainableCommander {
  return multi.set(labelSetKey(prefix, issue), encodeLabelSet(labels), "EX", LABEL_SET_TTL_S);
}
