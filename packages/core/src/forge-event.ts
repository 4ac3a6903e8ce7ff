import { z } from "zod";

/** Which API a delivery came from. Forgejo speaks Gitea's API, so it is `gitea` with flavour `forgejo`. */
export const ForgeId = z.enum(["github", "gitea"]);
export type ForgeId = z.infer<typeof ForgeId>;

/** A repository as every forge names it. */
export const RepoRef = z.object({
  forge: ForgeId,
  /** `owner/name`. */
  fullName: z.string().min(3),
  owner: z.string().min(1),
  name: z.string().min(1),
  /** Any git URL (https, ssh or file://). */
  cloneUrl: z.string().min(1),
  defaultBranch: z.string().optional(),
});
export type RepoRef = z.infer<typeof RepoRef>;

/** One issue or pull request: the unit that holds at most one run at a time. */
export const IssueRef = z.object({
  repo: RepoRef,
  number: z.number().int().positive(),
  isPr: z.boolean(),
  /** GitHub App installation that sent the delivery, when there is one. */
  installationId: z.number().int().optional(),
});
export type IssueRef = z.infer<typeof IssueRef>;

/** A string key for an issue, used for locks, label sets and stop flags: `github:owner/name#12`. */
export function issueKey(ref: { repo: { forge: string; fullName: string }; number: number }): string {
  return `${ref.repo.forge}:${ref.repo.fullName}#${ref.number}`;
}

/**
 * A forge-neutral, normalised delivery: only the fields routing needs.
 * GitHub names the changed label; for Gitea it is computed by diffing label sets.
 */
export const ForgeEvent = z.object({
  forge: ForgeId,
  flavour: z.enum(["github", "gitea", "forgejo"]),
  deliveryId: z.string().min(1),
  /** Coarse event name (`issues`, `issue_comment`, `pull_request`, `ping`, …). */
  event: z.string(),
  action: z.string().optional(),
  repo: RepoRef.optional(),
  issue: z
    .object({
      number: z.number().int().positive(),
      isPr: z.boolean(),
      title: z.string(),
      body: z.string(),
      state: z.string(),
      labels: z.array(z.string()),
      merged: z.boolean().optional(),
    })
    .optional(),
  sender: z.object({ login: z.string(), isBot: z.boolean() }).optional(),
  label: z.object({ name: z.string(), change: z.enum(["added", "removed"]) }).optional(),
  comment: z
    .object({
      id: z.number().int(),
      body: z.string(),
      /** GitHub only: a fast pre-filter, never proof of write access. */
      authorAssociation: z.string().optional(),
    })
    .optional(),
  installationId: z.number().int().optional(),
});
export type ForgeEvent = z.infer<typeof ForgeEvent>;
