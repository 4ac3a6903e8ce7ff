import { createHash } from "node:crypto";

/**
 * How long an accepted delivery id is remembered. GitHub redelivers with the same id for 3 days
 * (GHES 7); a day more covers clock skew and slow humans pressing "Redeliver".
 */
export const DELIVERY_TTL_S = 4 * 24 * 3600;

/** How long finished jobs are kept, so that their ids keep deduplicating re-adds for a week. */
export const JOB_RETENTION_S = 7 * 24 * 3600;

/** Key that marks a delivery id of one forge as accepted. */
export function deliveryKey(prefix: string, forge: string, deliveryId: string): string {
  return `${prefix}:delivery:${forge}:${deliveryId}`;
}

/**
 * Job id for the slash commands of one comment. Keyed by the comment, not the delivery: Gitea's
 * "Replay" re-sends a comment with a new delivery id, and its commands must not run twice.
 */
export function commandJobIdFor(forge: string, repo: string, commentId: number): string {
  return `c${createHash("sha256").update(`${forge}\0${repo}\0${commentId}`).digest("hex").slice(0, 12)}`;
}

/** BullMQ job options every producer uses: a fixed id plus a week of retention so the id stays deduplicated. */
export function jobOptionsFor(jobId: string) {
  return {
    jobId,
    removeOnComplete: { age: JOB_RETENTION_S },
    removeOnFail: { age: JOB_RETENTION_S },
  };
}
