import type { ChainableCommander, Redis } from "ioredis";
import type { StopRequest } from "./jobs";
import { LABEL_SET_TTL_S, labelSetKey } from "./label-sets";
import { encodeStop, STOP_FLAG_TTL_S, stopChannel, stopFlagKey } from "./stop-requests";

/**
 * How long an accepted delivery id is remembered. GitHub redelivers with the same id for 3 days
 * (GHES 7); a day more covers clock skew and slow humans pressing "Redeliver".
 */
export const DELIVERY_TTL_S = 4 * 24 * 3600;

/** Key that marks a delivery id of one forge as accepted. */
export function deliveryKey(prefix: string, forge: string, deliveryId: string): string {
  return `${prefix}:delivery:${forge}:${deliveryId}`;
}

// Input:  KEYS[1] delivery key, KEYS[2..1+n] stop flag keys, KEYS[2+n] label-set key (when ARGV[5] ~= "")
//         ARGV[1] delivery ttl (s), ARGV[2] n stops, ARGV[3] stop flag ttl (s), ARGV[4] stop channel,
//         ARGV[5] label-set value or "", ARGV[6] label-set ttl (s), ARGV[7] delivery record, ARGV[8..7+n] stop payloads
// Output: 1 when the delivery was new and its stops/label set were written, 0 for a duplicate (nothing written).
const COMMIT_DELIVERY = `
if not redis.call('SET', KEYS[1], ARGV[7], 'NX', 'EX', ARGV[1]) then return 0 end
local n = tonumber(ARGV[2])
for i = 1, n do
  redis.call('SET', KEYS[1 + i], ARGV[7 + i], 'EX', ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[7 + i])
end
if ARGV[5] ~= '' then redis.call('SET', KEYS[2 + n], ARGV[5], 'EX', ARGV[6]) end
return 1
`;

/** Name of COMMIT_DELIVERY once defined on a connection: sent by SHA (EVALSHA) after its first use there. */
const COMMIT_COMMAND = "fhCommitDelivery";

type CommitCommander = { [COMMIT_COMMAND]: (...args: (string | number)[]) => unknown };

/** What one accepted delivery writes besides its jobs. */
export interface DeliveryCommit {
  forge: string;
  deliveryId: string;
  /** Stop requests for issues (`issue` set): flagged and announced only when the delivery is new. */
  stops: readonly StopRequest[];
  /** The issue's new stage-label set (`encodeLabelSet`), stored only when the delivery is new. */
  labelSet?: { issue: string; value: string } | undefined;
  /** Ids of the jobs added beside the commit, kept in the delivery's record. */
  jobIds: readonly string[];
}

/** Defines the commit script on a connection, once; MULTIs and pipelines of that connection can then queue it. */
export function defineCommitDelivery(client: Redis): void {
  if (!(COMMIT_COMMAND in client.scriptsSet)) client.defineCommand(COMMIT_COMMAND, { lua: COMMIT_DELIVERY });
}

/**
 * Queues ONE command on `multi` (of a connection `defineCommitDelivery` was called on): the
 * delivery-id mark (SET NX) and, only when that mark is new, the stop flags with their
 * announcements and the label set. Its reply is 1 for a new delivery, 0 for a duplicate.
 */
export function commitDeliveryOn(multi: ChainableCommander, prefix: string, commit: DeliveryCommit): void {
  const stops = commit.stops.map(encodeStop);
  const keys = [deliveryKey(prefix, commit.forge, commit.deliveryId)];
  for (const s of commit.stops) keys.push(stopFlagKey(prefix, { issue: s.issue, stage: s.stage }));
  if (commit.labelSet) keys.push(labelSetKey(prefix, commit.labelSet.issue));
  const record = JSON.stringify({ at: Date.now(), jobs: commit.jobIds });
  (multi as unknown as CommitCommander)[COMMIT_COMMAND](
    keys.length,
    ...keys,
    DELIVERY_TTL_S,
    stops.length,
    STOP_FLAG_TTL_S,
    stopChannel(prefix),
    commit.labelSet?.value ?? "",
    LABEL_SET_TTL_S,
    record,
    ...stops,
  );
}

/**
 * Best effort: forgets a committed delivery whose jobs could not be added (its mark, and its
 * label set back to `previousLabelSet`), so the forge's redelivery is accepted and re-diffed.
 */
export async function undoDeliveryCommit(
  redis: Redis,
  prefix: string,
  commit: Pick<DeliveryCommit, "forge" | "deliveryId" | "labelSet">,
  previousLabelSet?: string | null,
): Promise<void> {
  const multi = redis.multi().del(deliveryKey(prefix, commit.forge, commit.deliveryId));
  if (commit.labelSet) {
    const labelKey = labelSetKey(prefix, commit.labelSet.issue);
    if (previousLabelSet) multi.set(labelKey, previousLabelSet, "EX", LABEL_SET_TTL_S);
    else multi.del(labelKey);
  }
  await multi.exec().catch(() => {});
}
