import { ForgeEvent, type RepoRef } from "@forgehand/core";
import { z } from "zod";
import { BadDeliveryError, type DeliveryHeaders } from "./delivery-headers";

// Loose objects throughout: forges add fields all the time, and only these are needed.
// `nullish` where either forge is known to send null (Gitea `labels: null`, GitHub `body: null`).

/** A user as both forges send it; Gitea also has the legacy `username`. */
export const PayloadUser = z.looseObject({
  login: z.string().optional(),
  username: z.string().optional(),
  type: z.string().optional(),
});

export const PayloadLabel = z.looseObject({ name: z.string() });

export const PayloadRepo = z.looseObject({
  full_name: z.string().min(3),
  name: z.string().min(1),
  owner: PayloadUser,
  clone_url: z.string().min(1),
  default_branch: z.string().nullish(),
});

/** An issue or a pull request (both forges use the same paths for what is needed). */
export const PayloadIssue = z.looseObject({
  number: z.number().int().positive(),
  title: z.string().nullish(),
  body: z.string().nullish(),
  state: z.string().nullish(),
  labels: z.array(PayloadLabel).nullish(),
  pull_request: z.unknown().optional(),
  merged: z.boolean().nullish(),
});

export const PayloadComment = z.looseObject({
  id: z.number().int(),
  body: z.string().nullish(),
  author_association: z.string().optional(),
});

/** The envelope fields every routed event may carry. */
export const Envelope = z.looseObject({
  action: z.string().optional(),
  repository: PayloadRepo.optional(),
  issue: PayloadIssue.nullish(),
  pull_request: PayloadIssue.nullish(),
  label: PayloadLabel.nullish(),
  comment: PayloadComment.nullish(),
  sender: PayloadUser.nullish(),
  installation: z.looseObject({ id: z.number().int() }).nullish(),
  is_pull: z.boolean().optional(),
});
export type Envelope = z.infer<typeof Envelope>;

/** Parses the envelope or answers 400 naming the first bad fields. */
export function parseEnvelope(json: Record<string, unknown>, headers: DeliveryHeaders): Envelope {
  const result = Envelope.safeParse(json);
  if (result.success) return result.data;
  const where = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
  throw new BadDeliveryError(`[webhook] ${headers.flavour} \`${headers.event}\` payload is not usable: ${where}`);
}

/** Requires a field that routing cannot do without, with a 400 that names it. */
export function required<T>(value: T | null | undefined, what: string, headers: DeliveryHeaders): T {
  if (value === null || value === undefined)
    throw new BadDeliveryError(`[webhook] ${headers.flavour} \`${headers.event}\` payload has no \`${what}\``);
  return value;
}

export function loginOf(user: z.infer<typeof PayloadUser> | null | undefined): string | undefined {
  return user?.login || user?.username || undefined;
}

/** Maps the repository block to a RepoRef. */
export function repoRefOf(repo: z.infer<typeof PayloadRepo>, headers: DeliveryHeaders): RepoRef {
  const owner = loginOf(repo.owner) ?? repo.full_name.split("/")[0] ?? "";
  return {
    forge: headers.forge,
    fullName: repo.full_name,
    owner,
    name: repo.name,
    cloneUrl: repo.clone_url,
    ...(repo.default_branch ? { defaultBranch: repo.default_branch } : {}),
  };
}

/** Maps an issue/PR block to the ForgeEvent issue shape. */
export function issueOf(issue: z.infer<typeof PayloadIssue>, isPr: boolean, merged?: boolean): ForgeEvent["issue"] {
  return {
    number: issue.number,
    isPr,
    title: issue.title ?? "",
    body: issue.body ?? "",
    state: issue.state ?? "",
    labels: (issue.labels ?? []).map((l) => l.name),
    ...(merged !== undefined ? { merged } : {}),
  };
}

/** Final zod check of the normalised event: a bug here is ours, but it must still never crash a delivery. */
export function checkedEvent(event: ForgeEvent): ForgeEvent {
  const result = ForgeEvent.safeParse(event);
  if (!result.success)
    throw new BadDeliveryError(`[webhook] normalised event is invalid: ${result.error.issues[0]?.message ?? "?"}`);
  return result.data;
}
